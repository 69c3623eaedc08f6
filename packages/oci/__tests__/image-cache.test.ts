import { readFileSync, writeFileSync } from 'node:fs';
import { copyFile, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDockerArchive, writeStreamScript } from '@nixrel/testkit/archives';
import { type FaultProxy, startFaultProxy } from '@nixrel/testkit/fault-proxy';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeImage, readImageArtifact } from '../src/archive.js';
import { artifactIdentity, cacheDir, ImageCache } from '../src/image-cache.js';
import { pushImage, resolveImage } from '../src/index.js';
import { exec, listFiles, rejection, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let cache: string;
let archive: string;
let gz: string;
let other: string;
let stream: string;
let cold: Awaited<ReturnType<typeof computeImage>>;
let coldOther: Awaited<ReturnType<typeof computeImage>>;
let layerBytes: number;
const mutable: Record<'touched' | 'rewritten' | 'resized' | 'corrupt' | 'racing', string> = { touched: '', rewritten: '', resized: '', corrupt: '', racing: '' };

// `other` has the same shape (entry names, sizes, offsets) as `archive` and other bytes.
const layers = [{ size: 3_000_000 }, { size: 1_000_000 }, { size: 4_000_000 }];

/** Counts the bytes a push reads from its artifact. */
function readCounter(): { onRead: (n: number) => void; bytes: number } {
  const c = {
    bytes: 0,
    onRead: (n: number) => {
      c.bytes += n;
    },
  };
  return c;
}

/** Bytes this process has read through read(2) and friends, from the kernel: independent of our own counting. */
function kernelReadBytes(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

/** A file changed less than 2 s ago is not remembered yet (a change in the same timestamp tick would go unseen). */
async function settle(paths: string[]): Promise<void> {
  const newest = Math.max(...(await Promise.all(paths.map(async (p) => (await stat(p)).ctimeMs))));
  const wait = 2100 - (Date.now() - newest);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('nixrel-oci-cache-'));
  cache = join(dir, 'cache');
  archive = (await writeDockerArchive(join(dir, 'img.tar'), { layers, seed: 'cache' })).path;
  gz = (await writeDockerArchive(join(dir, 'img.tar.gz'), { layers, seed: 'cache', gzip: true })).path;
  other = (await writeDockerArchive(join(dir, 'other.tar'), { layers, seed: 'cache-other' })).path;
  stream = await writeStreamScript(join(dir, 'stream.sh'), archive);
  for (const k of Object.keys(mutable) as (keyof typeof mutable)[]) {
    mutable[k] = join(dir, `${k}.tar`);
    await copyFile(archive, mutable[k]);
  }
  cold = await computeImage({ path: archive }, { parallelHash: false });
  coldOther = await computeImage({ path: other }, { parallelHash: false });
  layerBytes = cold.layers.reduce((n, l) => n + l.size, 0);
  await settle([archive, gz, other, stream, ...Object.values(mutable)]);
});
afterAll(() => cleanup());

describe('re-pushing an unchanged artifact', () => {
  let reg: RegistryHandle;
  let proxy: FaultProxy;
  const requests: string[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
    // No faults: the proxy only records what the push asks of the registry.
    proxy = await startFaultProxy({
      upstream: reg.url,
      rate: 0,
      eligible: (method, path) => {
        requests.push(`${method} ${path}`);
        return false;
      },
    });
  });
  afterAll(async () => {
    await proxy.stop();
    await reg.stop();
  });

  it('reads no byte of the archive and sends only HEAD requests, with the same result', async () => {
    const first = readCounter();
    const pushed = await pushImage({ path: archive }, `${proxy.url}/cache/app:v1`, { cache, onRead: first.onRead });
    expect(pushed.digest).toBe(cold.digest);
    expect(first.bytes).toBeGreaterThanOrEqual(layerBytes);
    expect(await listFiles(cache)).toHaveLength(1);

    requests.length = 0;
    const again = readCounter();
    const kernelBefore = kernelReadBytes();
    const repushed = await pushImage({ path: archive }, `${proxy.url}/cache/app:v1`, { cache, onRead: again.onRead });
    const kernelRead = kernelReadBytes() - kernelBefore;
    expect(again.bytes).toBe(0);
    // The archive is 8 MB: reading any layer of it would show here.
    expect(kernelRead).toBeLessThan(1 << 20);
    expect(repushed).toEqual({ ...pushed, bytesUploaded: 0, blobsSkipped: 4 });
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => !r.startsWith('HEAD '))).toEqual([]);
    expect(requests).toContain(`HEAD /v2/cache/app/manifests/${cold.digest}`);
  });

  it('reads only the layers a target lacks, by range, and the image equals a cold computation', async () => {
    const counter = readCounter();
    const layout = join(dir, 'layout-hit');
    const pushed = await pushImage({ path: archive }, `oci:${layout}:v1`, { cache, onRead: counter.onRead });
    expect(counter.bytes).toBe(layerBytes);
    expect(pushed.digest).toBe(cold.digest);
    expect(pushed.layers).toEqual(cold.layers);
    const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', layout, '--ref', 'name=v1']);
    expect(stdout).toMatch(/Validation succeeded/);

    // A gzipped archive is read once more, sequentially, on a hit as well.
    await pushImage({ path: gz }, `oci:${join(dir, 'layout-gz-1')}`, { cache });
    const gzCounter = readCounter();
    const fromGz = await pushImage({ path: gz }, `oci:${join(dir, 'layout-gz-2')}:v1`, { cache, onRead: gzCounter.onRead });
    expect(gzCounter.bytes).toBeGreaterThan(0);
    expect(fromGz.digest).toBe(cold.digest);
    const check = await exec('oci-image-tool', ['validate', '--type', 'image', join(dir, 'layout-gz-2'), '--ref', 'name=v1']);
    expect(check.stdout).toMatch(/Validation succeeded/);
  });
});

describe('where file identity is not enough', () => {
  it('fails with DIGEST_MISMATCH, writing no manifest, when cached layers no longer match the bytes', async () => {
    // A cache entry that names `other` but describes `archive`: same identity, other bytes.
    const forgedCache = join(dir, 'forged-cache');
    await new ImageCache(forgedCache).put(await artifactIdentity(other), await readImageArtifact(archive));
    const reg = await startRegistry();
    try {
      const e = await rejection(pushImage({ path: other }, `${reg.url}/forged/app:v1`, { cache: forgedCache }));
      expect(e.code).toBe('DIGEST_MISMATCH');
      expect(e.message).toMatch(/blob sha256:[a-f0-9]{64}: the source yielded/);
      expect((await rejection(resolveImage(`${reg.url}/forged/app:v1`))).code).toBe('NOT_FOUND');
      expect((await rejection(resolveImage(`${reg.url}/forged/app@${cold.digest}`))).code).toBe('NOT_FOUND');
    } finally {
      await reg.stop();
    }
    const layout = join(dir, 'layout-forged');
    const e2 = await rejection(pushImage({ path: other }, `oci:${layout}:v1`, { cache: forgedCache }));
    expect(e2.code).toBe('DIGEST_MISMATCH');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests).toEqual([]);
    const blobs = await listFiles(join(layout, 'blobs'));
    for (const l of cold.layers) expect(blobs).not.toContain(`sha256/${l.digest.slice(7)}`);
  });

  it.each([
    ['touched', 'a new mtime, same bytes'],
    ['rewritten', 'other bytes of the same size'],
    ['resized', 'another size'],
  ] as const)('reads an archive again after a change (%s: %s)', async (kind: 'touched' | 'rewritten' | 'resized', _what: string) => {
    const path = mutable[kind];
    const target = (n: number) => `oci:${join(dir, `layout-${kind}-${n}`)}`;
    const first = await pushImage({ path }, target(1), { cache });
    expect(first.digest).toBe(cold.digest);
    const unchanged = readCounter();
    await pushImage({ path }, target(2), { cache, onRead: unchanged.onRead });
    expect(unchanged.bytes).toBe(layerBytes);

    let expected = cold;
    if (kind === 'touched') {
      await utimes(path, new Date(), new Date(Date.now() - 60_000));
    } else if (kind === 'rewritten') {
      await writeFile(path, await readFile(other));
      expected = coldOther;
    } else {
      await writeDockerArchive(path, { layers: [...layers, { size: 100_000 }], seed: 'cache-resized' });
      expected = await computeImage({ path }, { parallelHash: false });
    }
    const counter = readCounter();
    const after = await pushImage({ path }, target(3), { cache, onRead: counter.onRead });
    // Read in full, then its layers again for the upload.
    expect(counter.bytes).toBeGreaterThanOrEqual(2 * expected.layers.reduce((n, l) => n + l.size, 0));
    expect(after.digest).toBe(expected.digest);
    expect(after.layers).toEqual(expected.layers);
  });

  it('fails with ARCHIVE_ERROR and writes no manifest when the archive changes while its layers are uploaded', async () => {
    const path = mutable.racing;
    const replacement = await readFile(other);
    const reg = await startRegistry();
    try {
      let changed = false;
      const e = await rejection(
        pushImage({ path }, `${reg.url}/racing/app:v1`, {
          cache,
          retry: { attempts: 2, baseDelayMs: 10 },
          onProgress: () => {
            if (changed) return;
            changed = true;
            writeFileSync(path, replacement);
          },
        }),
      );
      expect(changed).toBe(true);
      expect(e.code).toBe('ARCHIVE_ERROR');
      expect(e.message).toContain(`${path} changed while it was being pushed`);
      expect((await rejection(resolveImage(`${reg.url}/racing/app:v1`))).code).toBe('NOT_FOUND');
      expect((await rejection(resolveImage(`${reg.url}/racing/app@${cold.digest}`))).code).toBe('NOT_FOUND');
    } finally {
      await reg.stop();
    }
  });

  it('ignores a corrupt or inconsistent cache entry, reads the archive, and rewrites the entry', async () => {
    const path = mutable.corrupt;
    const store = new ImageCache(cache);
    const id = await artifactIdentity(path);
    const entryFile = store.fileFor(id);
    await pushImage({ path }, `oci:${join(dir, 'layout-corrupt-0')}`, { cache });
    const good = await readFile(entryFile, 'utf8');

    const entry = JSON.parse(good) as { image: { manifest: string; layers: { size: number }[] } };
    const sized = structuredClone(entry);
    sized.image.layers[0]!.size += 1;
    const edited = structuredClone(entry);
    edited.image.manifest = edited.image.manifest.replace('"schemaVersion":2', '"schemaVersion":3');
    for (const [n, bad] of ['{"version":1,"identity":', 'not json at all', JSON.stringify(sized), JSON.stringify(edited), '[]'].entries()) {
      await writeFile(entryFile, bad);
      expect(await store.get(id)).toBeUndefined();
      const counter = readCounter();
      const pushed = await pushImage({ path }, `oci:${join(dir, `layout-corrupt-${n + 1}`)}:v1`, { cache, onRead: counter.onRead });
      expect(pushed.digest).toBe(cold.digest);
      expect(counter.bytes).toBeGreaterThanOrEqual(2 * layerBytes);
      expect(await readFile(entryFile, 'utf8')).toBe(good);
      expect((await store.get(id))?.digest).toBe(cold.digest);
    }
  });

  it('reads a stream script outside the Nix store on every push, and nothing is cached when the cache is off', async () => {
    for (let n = 0; n < 2; n++) {
      const counter = readCounter();
      const pushed = await pushImage({ path: stream }, `oci:${join(dir, `layout-stream-${n}`)}`, { cache, onRead: counter.onRead });
      expect(pushed.digest).toBe(cold.digest);
      expect(counter.bytes).toBeGreaterThan(layerBytes);
    }
    const unused = join(dir, 'unused-cache');
    await pushImage({ path: archive }, `oci:${join(dir, 'layout-off-1')}`, { cache: false, env: { NIXREL_OCI_CACHE: unused } });
    await pushImage({ path: archive }, `oci:${join(dir, 'layout-off-2')}`, { env: { NIXREL_OCI_CACHE: 'off', HOME: unused } });
    expect(await listFiles(unused)).toEqual([]);
  });

  it('finds its directory from the option, NIXREL_OCI_CACHE, XDG_CACHE_HOME or HOME', () => {
    expect(cacheDir({ cache: '/c', env: { NIXREL_OCI_CACHE: '/e' } })).toBe('/c');
    expect(cacheDir({ cache: false, env: { NIXREL_OCI_CACHE: '/e' } })).toBeUndefined();
    expect(cacheDir({ env: { NIXREL_OCI_CACHE: '/e', XDG_CACHE_HOME: '/x' } })).toBe('/e');
    expect(cacheDir({ env: { NIXREL_OCI_CACHE: 'off', XDG_CACHE_HOME: '/x' } })).toBeUndefined();
    expect(cacheDir({ env: { XDG_CACHE_HOME: '/x', HOME: '/h' } })).toBe('/x/nixrel/oci');
    expect(cacheDir({ env: { XDG_CACHE_HOME: 'relative', HOME: '/h' } })).toBe('/h/.cache/nixrel/oci');
    expect(cacheDir({ env: { HOME: '/h' } })).toBe('/h/.cache/nixrel/oci');
  });
});
