/**
 * What an auditor checks on a published image: the manifest, its config and
 * every layer are where the image reference says, and each blob hashes to the
 * digest that names it (sizes alone prove nothing). Layers are streamed
 * through the hash, never held in memory. Every problem is collected, each
 * naming the blob, so one corrupt layer does not hide another.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ReleaseError, toReleaseError } from '@nixrel/core';
import { header, httpRequest } from './http.js';
import type { Descriptor } from './media-types.js';
import { parseImageRef, requireDigest } from './refs.js';
import type { RegistryOptions, RegistryStore } from './registry.js';
import { openStore } from './target.js';

/** A manifest or config this large is not an image manifest. */
const MAX_JSON_BLOB = 4 << 20;

export interface ImageBlobs {
  /** Config and layer descriptors as the manifest lists them. */
  config: Descriptor;
  layers: Descriptor[];
  /** One line per blob that is missing or does not hash to its digest; empty when all are sound. */
  problems: string[];
}

interface ImageManifest {
  config?: Descriptor;
  layers?: Descriptor[];
}

/** sha256 and size of a blob read as a stream; undefined when the store has no such blob. */
async function hashBlob(store: ReturnType<typeof openStore>['store'], ref: ReturnType<typeof parseImageRef>, digest: string, maxBytes: number): Promise<{ digest: string; size: number } | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  const take = (c: Buffer) => {
    size += c.length;
    hash.update(c);
  };
  if (ref.kind === 'layout') {
    const hex = /^sha256:([a-f0-9]{64})$/.exec(digest)?.[1];
    if (!hex) throw new ReleaseError('INVALID_INPUT', `invalid digest "${digest}"`);
    try {
      for await (const c of createReadStream(join(ref.dir, 'blobs', 'sha256', hex))) take(c as Buffer);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  } else {
    const registry = store as RegistryStore;
    const what = `reading blob ${digest}`;
    let res = await registry.client.request({
      method: 'GET',
      path: `/v2/${registry.repository}/blobs/${digest}`,
      scopes: [`repository:${registry.repository}:pull`],
      what,
      maxResponseBytes: maxBytes,
      onData: take,
    });
    // Registries may redirect blob reads to their storage backend (no auth there).
    for (let hops = 0; hops < 3 && [301, 302, 303, 307, 308].includes(res.status); hops++) {
      const location = header(res, 'location');
      if (!location) break;
      res = await httpRequest({ method: 'GET', url: new URL(location, registry.client.base), maxResponseBytes: maxBytes, onData: take });
    }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw registry.client.fail(res, what);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/**
 * Reads `<repo>@sha256:…` (or `oci:<dir>@sha256:…`) and checks that the
 * manifest, the config and every layer exist and hash to their digests.
 * Throws only when the store cannot be read at all (unreachable, refused).
 */
export async function checkImageBlobs(image: string, opts: RegistryOptions = {}): Promise<ImageBlobs> {
  const ref = parseImageRef(image);
  const digest = requireDigest(ref, image);
  const { store } = openStore(ref, opts);
  const problems: string[] = [];
  let manifestBytes: Buffer | undefined;
  try {
    manifestBytes = (await store.getManifest(digest))?.bytes;
  } catch (e) {
    const err = toReleaseError(e);
    // A layout checks the manifest's digest itself; a registry that serves other bytes fails its read.
    if (err.code !== 'DIGEST_MISMATCH' && err.code !== 'NETWORK_ERROR') throw err;
    problems.push(`manifest ${digest}: ${err.message}`);
    return { config: { mediaType: '', digest: '', size: 0 }, layers: [], problems };
  }
  if (!manifestBytes) {
    problems.push(`manifest ${digest} is missing from ${store.name}`);
    return { config: { mediaType: '', digest: '', size: 0 }, layers: [], problems };
  }
  if (manifestBytes.length > MAX_JSON_BLOB) throw new ReleaseError('INVALID_INPUT', `manifest ${digest} in ${store.name} is larger than ${MAX_JSON_BLOB} bytes`);
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  } catch {
    throw new ReleaseError('INVALID_INPUT', `manifest ${digest} in ${store.name} is not JSON`);
  }
  const config = manifest.config;
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  if (!config || typeof config.digest !== 'string' || !Array.isArray(manifest.layers)) {
    throw new ReleaseError('INVALID_INPUT', `manifest ${digest} in ${store.name} is not an image manifest (no config or layers)`);
  }
  const blobs: [string, Descriptor][] = [['config', config], ...layers.map((l, i): [string, Descriptor] => [`layer ${i}`, l])];
  for (const [what, d] of blobs) {
    let got: Awaited<ReturnType<typeof hashBlob>>;
    try {
      got = await hashBlob(store, ref, d.digest, d.size + 1);
    } catch (e) {
      const err = toReleaseError(e);
      if (err.code === 'NETWORK_ERROR' || err.code === 'AUTH_ERROR') throw err;
      problems.push(`${what} ${d.digest}: ${err.message}`);
      continue;
    }
    if (!got) problems.push(`${what} ${d.digest} is missing from ${store.name}`);
    else if (got.digest !== d.digest) problems.push(`${what} ${d.digest} hashes to ${got.digest} (${got.size} bytes; the manifest says ${d.size})`);
    else if (got.size !== d.size) problems.push(`${what} ${d.digest} has ${got.size} bytes, the manifest says ${d.size}`);
  }
  return { config, layers, problems };
}
