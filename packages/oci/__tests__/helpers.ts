import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LayerSpec, writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll } from 'vitest';

export const exec = promisify(execFile);

export async function tempDir(prefix = 'nixrel-oci-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Points the image cache of this test process at `dir`, away from the user's. */
export function isolateImageCache(dir: string): string {
  const cache = join(dir, 'image-cache');
  process.env.NIXREL_OCI_CACHE = cache;
  return cache;
}

/** A docker-config-style auth file holding the registry's credentials. */
export async function writeAuthFile(dir: string, reg: RegistryHandle, password = reg.password): Promise<string> {
  const path = join(dir, `auth-${Math.random().toString(36).slice(2)}.json`);
  const auth = Buffer.from(`${reg.username}:${password}`).toString('base64');
  await writeFile(path, JSON.stringify({ auths: { [reg.url]: { auth } } }));
  return path;
}

export function skopeoCreds(reg: RegistryHandle): string[] {
  return reg.username ? ['--creds', `${reg.username}:${reg.password}`] : [];
}

export async function skopeoRawDigest(reg: RegistryHandle, ref: string): Promise<string> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', ...skopeoCreds(reg), `docker://${ref}`], { encoding: 'buffer' });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

/** Every file under a directory, relative, sorted: to prove nothing was written. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).map(String).sort();
  } catch {
    return [];
  }
}

/** Runs a promise expecting a ReleaseError; returns it. */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** For a test file: a temp dir with its own image cache, a registry, and one archive of `layers` (fields set in beforeAll). */
export function registryAndArchive(seed: string, layers: LayerSpec[]): { dir: string; reg: RegistryHandle; archive: string } {
  const fx = {} as { dir: string; reg: RegistryHandle; archive: string };
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: fx.dir, cleanup } = await tempDir());
    isolateImageCache(fx.dir);
    fx.reg = await startRegistry();
    fx.archive = (await writeDockerArchive(join(fx.dir, 'img.tar'), { layers, seed })).path;
  });
  afterAll(async () => {
    await fx.reg?.stop();
    await cleanup?.();
  });
  return fx;
}
