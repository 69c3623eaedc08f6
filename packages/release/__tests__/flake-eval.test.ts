import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module script, no type declarations
import { bunNix } from '../scripts/bun-nix.mjs';
import { addToStore, haveFlakeInputs, missingInputsReason, type UnpackedInputs, unpackFlakeInputs } from './flake-inputs.js';
import { repoRoot } from './image-test-helpers.js';

const exec = promisify(execFile);
const env = offlineNixEnv();

interface Evaluated {
  drvPath: string;
  closureDrvPath: string;
  imageMetadata: { name: string; version: string; format: string; metadata: { licenses?: string; title: string } };
}
type Derivations = Record<string, { env: Record<string, string>; inputDrvs: Record<string, string[]>; inputSrcs: string[] }>;

/** Lines "stand-in attribute used: NAME" the stand-in prints, as a sorted set. */
const usedAttributes = (stderr: string) => [...new Set([...stderr.matchAll(/stand-in attribute used: (\S+)/g)].map((m) => m[1]!))].sort();

/**
 * The stand-in attributes docs/nixpkgs-attributes.md lists: rows
 * `| \`name\` | read / argument | ...`.
 */
async function documentedAttributes(): Promise<{ read: string[]; argumentOnly: string[] }> {
  const doc = await readFile(join(repoRoot, 'docs/nixpkgs-attributes.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([^`]+)` \| (read|argument only) \|/gm)];
  const pick = (kind: string) => rows.filter((r) => r[2] === kind).map((r) => r[1]!).sort();
  return { read: pick('read'), argumentOnly: pick('argument only') };
}

describe.skipIf(!haveFlakeInputs)(`the sbomify flake, evaluated offline with its real inputs${haveFlakeInputs ? '' : ` (skipped: ${missingInputsReason})`}`, () => {
  let sources: UnpackedInputs;
  let work: string;
  let images: Record<string, Evaluated>;
  let drvs: Derivations;
  let stderr: string;
  let seconds: number;
  const sbomifySrc = () => sources.find('sbomify', 'sbomify')!;

  beforeAll(async () => {
    sources = await unpackFlakeInputs();
    work = await mkdtemp(join(tmpdir(), 'nixrel-flake-eval-'));
    // Every locked input's tree in the store, where fetchTree finds it by its NAR hash.
    for (const input of sources.inputs) if (input.repo !== 'nixpkgs.lib') await addToStore(input.dir);
    // The repository as the flake sees it, and the stand-in with nixpkgs' real lib beside it.
    const repo = join(work, 'repo');
    for (const p of ['flake.nix', 'flake.lock', 'nix', 'packages/images']) {
      await cp(join(repoRoot, p), join(repo, p), { recursive: true, filter: (s) => !s.includes('node_modules') });
    }
    const standIn = join(work, 'nixpkgs');
    await cp(join(repoRoot, 'nix/tests/nixpkgs'), standIn, { recursive: true });
    const lib = sources.find('nix-community', 'nixpkgs.lib')!.dir;
    await cp(join(lib, 'lib'), join(standIn, 'lib'), { recursive: true });

    const started = process.hrtime.bigint();
    const result = await exec(
      'nix-instantiate',
      ['--eval', '--strict', '--json', '--read-write-mode', join(repo, 'nix/tests/eval-flake.nix'), '--arg', 'root', repo, '--arg', 'replaced', `{ nixpkgs = ${standIn}; nixpkgs-lib = ${lib}; }`],
      { env, maxBuffer: 64 << 20 },
    );
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    images = JSON.parse(result.stdout) as Record<string, Evaluated>;
    stderr = result.stderr;
    const shown = await exec('nix', ['show-derivation', '-r', ...Object.values(images).map((i) => i.drvPath)], { env, maxBuffer: 256 << 20 });
    drvs = JSON.parse(shown.stdout) as Derivations;
  }, 300_000);
  afterAll(async () => {
    await sources?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const drvNamed = (re: RegExp) => Object.entries(drvs).filter(([path]) => re.test(path));

  it('evaluates all seven images and their SBOM inputs, in reasonable time', () => {
    console.log(`offline evaluation of the sbomify flake: ${seconds.toFixed(2)} s, ${Object.keys(drvs).length} derivations`);
    expect(Object.keys(images)).toEqual(['minio', 'postgres', 'redis', 'sbomify-app', 'sbomify-caddy-dev', 'sbomify-keycloak', 'sbomify-minio-init']);
    for (const [name, image] of Object.entries(images)) {
      expect(image.drvPath, name).toMatch(new RegExp(`-${name}\\.tar\\.drv$`));
      expect(image.closureDrvPath, name).toMatch(/-sbom-input\.json\.drv$/);
      expect(image.imageMetadata.metadata.title).toBe(name);
      expect(image.imageMetadata.metadata.licenses, name).toBeTruthy();
    }
    expect(images['sbomify-app']!.imageMetadata.version).toBe('26.1.0');
    expect(seconds).toBeLessThan(60);
  });

  it('builds the virtualenv with the real uv2nix from the real uv.lock: runtime dependencies only, every one from its wheel', async () => {
    const lock = await readFile(join(sbomifySrc().dir, 'uv.lock'), 'utf8');
    const wheelUrl = (name: string) => new RegExp(`name = "${name}"\\nversion = "([^"]+)"[\\s\\S]*?wheels = \\[[\\s\\S]*?url = "([^"]+manylinux[^"]+x86_64[^"]*\\.whl)"`).exec(lock);
    const fetched = drvNamed(/\.whl\.drv$/).map(([, d]) => d.env.urls ?? d.env.url ?? '');
    // A compiled dependency comes as its manylinux wheel for the system, named in uv.lock.
    const psycopg = wheelUrl('psycopg2-binary');
    expect(psycopg).not.toBeNull();
    expect(fetched.some((u) => u.includes('psycopg2_binary-') && u.includes('manylinux') && u.includes('x86_64'))).toBe(true);
    expect(fetched.some((u) => /\/django-5\.[^/]*-py3-none-any\.whl/.test(u))).toBe(true);
    // Dev and test groups (uv's default groups) stay out of the image.
    for (const devOnly of ['ruff', 'pytest', 'playwright', 'diffimg', 'ipython']) {
      expect(fetched.filter((u) => new RegExp(`/${devOnly}-`).test(u)), devOnly).toEqual([]);
    }
    const venv = drvNamed(/sbomify-env-26\.1\.0\.drv$/);
    expect(venv).toHaveLength(1);
    expect(venv[0]![1].env.NIX_PYPROJECT_DEPS).toContain('-gunicorn-');
    expect(venv[0]![1].env.NIX_PYPROJECT_DEPS).not.toContain('-ruff-');
  });

  it('fetches the frontend dependencies with the real bun2nix from a bun.nix that matches the real bun.lock', async () => {
    const lock = await readFile(join(sbomifySrc().dir, 'bun.lock'), 'utf8');
    expect(await readFile(join(repoRoot, 'packages/images/sbomify-app/bun.nix'), 'utf8'), 'bun.nix is regenerated from the pinned bun.lock (packages/release/scripts/bun-nix.mjs)').toBe(bunNix(lock));
    const packages = drvNamed(/-bun-pkg-/);
    const inBunNix = [...(await readFile(join(repoRoot, 'packages/images/sbomify-app/bun.nix'), 'utf8')).matchAll(/fetchurl \{/g)].length;
    expect(packages.length).toBe(inBunNix);
    expect(drvNamed(/-bun-cache\.drv$/)).toHaveLength(1);
    // vite, the frontend's bundler, at the version and from the URL bun.lock pins.
    const [, vite] = drvNamed(/-vite-7\.3\.1\.tgz\.drv$/)[0]!;
    expect(vite.env.urls).toContain('https://registry.npmjs.org/vite/-/vite-7.3.1.tgz');
    expect(lock).toContain('"vite": ["vite@7.3.1"');
  });

  it('reads the Caddyfile, theme and init scripts from the real sbomify source', async () => {
    const caddyfile = drvNamed(/-Caddyfile\.drv$/);
    expect(caddyfile).toHaveLength(1);
    expect(caddyfile[0]![1].env.text).toBe(await readFile(join(sbomifySrc().dir, 'Caddyfile.dev'), 'utf8'));
    const theme = drvNamed(/-sbomify-keycloak-theme-26\.1\.0\.drv$/);
    expect(theme[0]![1].env.src).toMatch(/-source\/keycloak$/);
    const [, init] = drvNamed(/-create-minio-buckets\.drv$/)[0]!;
    expect(init.env.buildCommand).toMatch(/-source\/bin\/create-minio-buckets\.sh/);
    // The script runs with the image's busybox, and mc is the Nix minio-client.
    expect(init.env.buildCommand).toMatch(/#!\/nix\/store\/[a-z0-9]{32}-busybox-[^/]+\/bin\/sh/);
    expect(init.env.buildCommand).toMatch(/--replace-fail \/usr\/bin\/mc \/nix\/store\/[a-z0-9]{32}-minio-client-[^/]+\/bin\/mc/);
    expect(await readFile(join(sbomifySrc().dir, 'bin/create-minio-buckets.sh'), 'utf8')).toMatch(/^#!\/bin\/sh\n[\s\S]*\/usr\/bin\/mc mb /);
    const [, bootstrap] = drvNamed(/-keycloak-bootstrap\.drv$/)[0]!;
    expect(bootstrap.env.buildCommand).toMatch(/-source\/bin\/keycloak-bootstrap\.sh/);
  });

  it('uses every stand-in attribute, and only those docs/nixpkgs-attributes.md lists', async () => {
    const doc = await documentedAttributes();
    expect(usedAttributes(stderr)).toEqual(doc.read);
    const { stdout } = await exec('nix-instantiate', ['--eval', '--json', '-E', `builtins.attrNames (import ${join(repoRoot, 'nix/tests/nixpkgs/stand-in.nix')} { system = "x86_64-linux"; })`], { env });
    expect(JSON.parse(stdout)).toEqual([...doc.read, ...doc.argumentOnly].sort());
  });
});
