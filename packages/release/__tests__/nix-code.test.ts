import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './image-test-helpers.js';

const exec = promisify(execFile);
const env = offlineNixEnv();

async function nixFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await nixFiles(p)));
    else if (e.name.endsWith('.nix')) out.push(p);
  }
  return out;
}

const evalImages = (root: string) =>
  exec('nix-instantiate', ['--eval', '--strict', '--json', '--read-write-mode', join(root, 'nix/tests/eval-images.nix'), '--argstr', 'system', 'x86_64-linux'], {
    env,
    maxBuffer: 16 << 20,
  });

describe('Nix code', () => {
  it('parses, every .nix file', async () => {
    const files = [join(repoRoot, 'flake.nix'), ...(await nixFiles(join(repoRoot, 'nix'))), ...(await nixFiles(join(repoRoot, 'packages/images'))), ...(await nixFiles(join(repoRoot, 'examples')))];
    expect(files.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const f of files) {
      await exec('nix-instantiate', ['--parse', f], { env }).catch((e: { stderr: string }) => failures.push(`${relative(repoRoot, f)}: ${e.stderr}`));
    }
    expect(failures).toEqual([]);
  });

  it('evaluates all seven images against the nixpkgs stand-in', async () => {
    const { stdout } = await evalImages(repoRoot);
    const images = JSON.parse(stdout) as Record<string, { drvPath: string; closureDrvPath: string; derivations: number; imageMetadata: { version: string; format: string; metadata: { licenses?: string; title: string }; closure: string; artifact: string } }>;
    expect(Object.keys(images)).toEqual(['minio', 'postgres', 'redis', 'sbomify-app', 'sbomify-caddy-dev', 'sbomify-keycloak', 'sbomify-minio-init']);
    for (const [name, image] of Object.entries(images)) {
      expect(image.drvPath, name).toMatch(/\.drv$/);
      expect(image.closureDrvPath, name).toMatch(/-sbom-input\.json\.drv$/);
      expect(image.imageMetadata.format).toBe('docker-archive');
      expect(image.imageMetadata.metadata.title).toBe(name);
      expect(image.imageMetadata.metadata.licenses, `${name} has a licence label`).toBeTruthy();
      expect(image.derivations, name).toBeGreaterThan(0);
    }
    // Versions come from the packages (or the sbomify source's pyproject.toml).
    expect(images['postgres']!.imageMetadata.version).toBe('17.5');
    expect(images['sbomify-app']!.imageMetadata.version).toBe('26.1.0');
    expect(images['sbomify-minio-init']!.imageMetadata.version).toBe('26.1.0');
    expect(images['redis']!.imageMetadata.metadata.licenses).toBe('AGPL-3.0-only');
  });

  it('fails the evaluation on a wrong nixpkgs attribute', async () => {
    const root = await mkdtemp(join(tmpdir(), 'nixrel-nix-'));
    try {
      await cp(join(repoRoot, 'nix'), join(root, 'nix'), { recursive: true });
      await cp(join(repoRoot, 'packages/images'), join(root, 'packages/images'), { recursive: true, filter: (s) => !s.includes('node_modules') });
      const file = join(root, 'packages/images/redis/image.nix');
      await writeFile(file, (await readFile(file, 'utf8')).replaceAll('pkgs.redis', 'pkgs.rediss'));
      const err = (await evalImages(root).then(
        () => undefined,
        (e: { stderr: string }) => e,
      )) as { stderr: string } | undefined;
      expect(err?.stderr).toMatch(/attribute 'rediss' missing/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('keeps the files shared by both collections identical', async () => {
    for (const f of ['sbom/closure-export.nix', 'sbom/closure-export.pl', 'sbom/dependency-tree.nix', 'collection.nix']) {
      expect(await readFile(join(repoRoot, 'examples/nix', f), 'utf8'), f).toBe(await readFile(join(repoRoot, 'nix', f), 'utf8'));
    }
  });

  it('locks exactly the inputs flake.nix declares, in lock format 7', async () => {
    const lock = JSON.parse(await readFile(join(repoRoot, 'flake.lock'), 'utf8')) as { version: number; root: string; nodes: Record<string, { inputs?: Record<string, unknown>; locked?: { rev?: string; narHash?: string } }> };
    expect(lock.version).toBe(7);
    const flake = await readFile(join(repoRoot, 'flake.nix'), 'utf8');
    const declared = [...flake.matchAll(/^ {4}([a-z0-9-]+)(?:\.url)? = /gm)].map((m) => m[1]).sort();
    expect(Object.keys(lock.nodes[lock.root]!.inputs!).sort()).toEqual(declared);
    for (const [name, node] of Object.entries(lock.nodes)) {
      if (name === lock.root) continue;
      expect(node.locked?.rev, name).toMatch(/^[0-9a-f]{40}$/);
      expect(node.locked?.narHash, name).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    }
  });
});

describe('strip-layer-files.sh', () => {
  it('deletes the gconv modules from the layers and rewrites digests, config and manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nixrel-strip-'));
    try {
      // A two-layer docker-archive; the first layer holds a glibc with the modules.
      const glibc = 'nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-glibc-2.40/lib/gconv';
      await mkdir(join(dir, 'fs1', glibc), { recursive: true });
      for (const f of ['IBM1390.so', 'IBM1399.so', 'IBM1047.so']) await writeFile(join(dir, 'fs1', glibc, f), f);
      await mkdir(join(dir, 'fs2', 'etc'), { recursive: true });
      await writeFile(join(dir, 'fs2', 'etc', 'motd'), 'hi');
      const tar = (file: string, cwd: string, ...paths: string[]) => exec('tar', ['--create', '--sort=name', '--mtime=@1', '--owner=0', '--group=0', '--numeric-owner', `--file=${file}`, '-C', cwd, ...paths]);
      const sha = async (file: string) => (await exec('sha256sum', [file])).stdout.split(' ')[0]!;
      await mkdir(join(dir, 'img'));
      const ids: string[] = [];
      for (const fs of ['fs1', 'fs2']) {
        await tar(join(dir, `${fs}.tar`), join(dir, fs), fs === 'fs1' ? 'nix' : 'etc');
        const s = await sha(join(dir, `${fs}.tar`));
        await mkdir(join(dir, 'img', s));
        await cp(join(dir, `${fs}.tar`), join(dir, 'img', s, 'layer.tar'));
        ids.push(s);
      }
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ids.map((s) => `sha256:${s}`) } });
      await writeFile(join(dir, 'config.json'), config);
      const configSha = await sha(join(dir, 'config.json'));
      await cp(join(dir, 'config.json'), join(dir, 'img', `${configSha}.json`));
      await writeFile(join(dir, 'img', 'manifest.json'), JSON.stringify([{ Config: `${configSha}.json`, RepoTags: ['x:1'], Layers: ids.map((s) => `${s}/layer.tar`) }]));
      await tar(join(dir, 'image.tar'), join(dir, 'img'), '.');

      const out = join(dir, 'out.tar');
      await exec('bash', [join(repoRoot, 'nix/strip-layer-files.sh')], {
        cwd: dir,
        env: { ...process.env, image: join(dir, 'image.tar'), out, stripPaths: 'lib/gconv/IBM1390.so lib/gconv/IBM1399.so' },
      });

      await mkdir(join(dir, 'check'));
      await exec('tar', ['-xf', out, '-C', join(dir, 'check')]);
      const [manifest] = JSON.parse(await readFile(join(dir, 'check', 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
      const newConfig = JSON.parse(await readFile(join(dir, 'check', manifest!.Config), 'utf8')) as { rootfs: { diff_ids: string[] } };
      expect(manifest!.Config).toBe(`${await sha(join(dir, 'check', manifest!.Config))}.json`);
      expect(manifest!.Layers[1]).toBe(`${ids[1]}/layer.tar`); // untouched layer keeps its digest
      expect(manifest!.Layers[0]).not.toBe(`${ids[0]}/layer.tar`);
      for (const [i, layer] of manifest!.Layers.entries()) {
        const s = await sha(join(dir, 'check', layer));
        expect(layer).toBe(`${s}/layer.tar`);
        expect(newConfig.rootfs.diff_ids[i]).toBe(`sha256:${s}`);
      }
      const files = (await exec('tar', ['-tf', join(dir, 'check', manifest!.Layers[0]!)])).stdout;
      expect(files).toContain('IBM1047.so');
      expect(files).not.toContain('IBM1390.so');
      expect(files).not.toContain('IBM1399.so');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
