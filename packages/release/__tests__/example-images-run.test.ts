import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '@nixrel/core';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, selectImages } from '../src/catalog.js';
import { buildImages } from '../src/stages/build.js';
import { repoRoot, runCli } from './image-test-helpers.js';

/**
 * Every example image starts: built by Nix, published to an OCI layout by
 * `pnpm release push`, then read back from the layout, its layers unpacked in
 * order and its Entrypoint + Cmd run with its Env, WorkingDir and User under
 * a changed root (container runtimes cannot set rlimits on these machines).
 */

const exec = promisify(execFile);
const env = offlineNixEnv();
// What a runtime gives a container whose config sets no PATH.
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

let dir: string;
const layout = () => join(dir, 'layout');
const blob = (digest: string) => join(layout(), 'blobs', ...digest.split(':'));

/** The config and unpacked file system of the image tagged `tag` in the layout. */
async function unpack(tag: string): Promise<{ root: string; config: ImageConfig }> {
  const index = JSON.parse(await readFile(join(layout(), 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no image tagged ${tag} in the layout`);
  const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const { config } = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as { config: ImageConfig };
  const root = join(dir, 'roots', tag);
  await mkdir(root, { recursive: true });
  for (const layer of manifest.layers) await exec('tar', ['-xf', blob(layer.digest), '-C', root]);
  return { root, config };
}

/** Runs the image's Entrypoint + Cmd as a runtime would: only its Env, in its WorkingDir, as its User. */
async function run(root: string, config: ImageConfig): Promise<{ stdout: string; stderr: string }> {
  const [uid, gid] = (config.User ?? '0:0').split(':');
  if (!/^\d+$/.test(uid!) || !/^\d*$/.test(gid ?? '')) throw new Error(`user ${config.User}: only numeric users are supported here`);
  const imageEnv = config.Env ?? [];
  const envList = imageEnv.some((e) => e.startsWith('PATH=')) ? imageEnv : [DEFAULT_PATH, ...imageEnv];
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  // nsenter without namespaces: chroot into the root, cd to the working dir, drop to the user.
  return exec('env', ['-i', ...envList, '/usr/bin/nsenter', `--root=${root}`, `--wd=${join(root, config.WorkingDir ?? '/')}`, '-S', uid!, '-G', gid || uid!, ...argv], { timeout: 10_000 });
}

/** The ELF program interpreter (dynamic loader) a 64-bit binary names, or null for a static one. */
async function programInterpreter(file: string): Promise<string | null> {
  const elf = await readFile(file);
  expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const [size, count] = [elf.readUInt16LE(0x36), elf.readUInt16LE(0x38)];
  for (let i = 0; i < count; i++) {
    const ph = phoff + i * size;
    if (elf.readUInt32LE(ph) !== 3) continue; // PT_INTERP
    const [offset, length] = [Number(elf.readBigUInt64LE(ph + 8)), Number(elf.readBigUInt64LE(ph + 32))];
    return elf.subarray(offset, offset + length - 1).toString('latin1');
  }
  return null;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nixrel-run-'));
  const artifacts = await buildImages(selectImages(await loadCatalog(repoRoot), { collection: 'example' }), { repoRoot, logger: silentLogger, env });
  for (const a of artifacts) {
    const pushed = await runCli(['release', 'push', a.outPath, `oci:${layout()}:${a.name}`], { cwd: repoRoot, env: { ...process.env, NIXREL_OCI_CACHE: join(dir, 'cache') } });
    expect(pushed.code, pushed.stderr).toBe(0);
  }
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the published example images run', () => {
  it('hello prints its greeting with emphasis, reading the data package named in its Env', async () => {
    const { root, config } = await unpack('hello');
    expect(config.Env).toContainEqual(expect.stringMatching(/^GREETING_DIR=\/nix\/store\/[a-z0-9]{32}-greeting-data-1\.2\.0\/share\/greeting$/));
    const { stdout } = await run(root, config);
    expect(stdout).toBe('Hello from a Nix-built image\n!\n');
  });

  it('greeter greets its Cmd argument as user 1000', async () => {
    const { root, config } = await unpack('greeter');
    expect(config.User).toBe('1000:1000');
    expect((await run(root, config)).stdout).toBe('Hello from a Nix-built image\nGreetings, world!\n');
    expect((await run(root, { ...config, Cmd: ['Nix'] })).stdout).toBe('Hello from a Nix-built image\nGreetings, Nix!\n');
  });

  it('toolbox runs hello from its WorkingDir, and refuses an unknown command', async () => {
    const { root, config } = await unpack('toolbox');
    expect(config.WorkingDir).toBe('/');
    expect((await run(root, config)).stdout).toBe('Hello from a Nix-built image\n!\n');
    const bad = await run(root, { ...config, Cmd: ['juggle'] }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toBe('usage: toolbox hello|greet [name]\n');
  });

  it('carries its own shell: a static busybox in the store, nothing outside /nix/store but the entry links', async () => {
    const { root } = await unpack('hello');
    const store = (await exec('ls', [join(root, 'nix/store')])).stdout.split('\n').filter(Boolean);
    expect(store.some((p) => /^[a-z0-9]{32}-busybox-1\.35\.0$/.test(p))).toBe(true);
    const shell = store.find((p) => p.endsWith('-busybox-1.35.0'))!;
    expect(await programInterpreter(join(root, 'nix/store', shell, 'bin/busybox'))).toBeNull();
    expect((await exec('ls', [root])).stdout.split('\n').filter(Boolean).sort()).toEqual(['bin', 'nix']);
  });
});
