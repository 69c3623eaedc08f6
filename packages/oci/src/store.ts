import type { Logger } from '@nixrel/core';
import type { Descriptor } from './media-types.js';

/**
 * Where images go. One seam, two implementations: an OCI image layout
 * directory (the offline default) and a registry speaking the OCI
 * distribution API. Pushing is then "make the store have these blobs, then
 * this manifest, then these tags".
 */
export interface ImageStore {
  /** `<host>/<repo>` or `oci:<dir>`. */
  readonly name: string;
  readonly logger: Logger;
  hasBlob(d: Descriptor): Promise<boolean>;
  /**
   * Whether the store holds the blob whole. A layout always reads and hashes
   * it; a registry answers from a HEAD request (presence, size, digest
   * header) unless `full`, which reads the blob back and hashes it.
   */
  checkBlob(d: Descriptor, opts?: { full?: boolean }): Promise<BlobState>;
  /** Removes a damaged blob so it can be stored again; false when the store refuses. */
  discardBlob(d: Descriptor): Promise<boolean>;
  /** Makes the blob present without uploading it (cross-repo mount); false when not possible. */
  mountBlob(d: Descriptor): Promise<boolean>;
  /**
   * Stores a blob whose bytes `open` yields (called again, from the start, for
   * each retry), checking them against `d` on the way. `sourceChecked` says the
   * caller hashed these very bytes already; a registry then leaves the check
   * to its own digest verification, a layout (which nothing else checks) does
   * it anyway. `commitAfter` holds the blob back, its last bytes unsent, until
   * the promise resolves, and abandons it if the promise rejects.
   */
  putBlob(d: Descriptor, open: (attempt: number) => AsyncIterable<Uint8Array>, onBytes?: (n: number) => void, opts?: PutBlobOptions): Promise<void>;
  /** True when the manifest with this digest is there (in a layout: listed in index.json). */
  hasManifest(digest: string): Promise<boolean>;
  /** `ref` is a digest or a tag; `root` makes a layout list the manifest in index.json. */
  putManifest(ref: string, bytes: Uint8Array, mediaType: string, opts?: { root?: boolean }): Promise<void>;
  /** The descriptor a tag or digest points at, or undefined when there is none. */
  resolve(ref: string): Promise<Descriptor | undefined>;
  getManifest(ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined>;
  getBlob(digest: string, maxBytes: number): Promise<Buffer>;
  listTags(): Promise<string[]>;
  /** The native referrers list, or undefined when the store has no referrers API. */
  referrers(digest: string, artifactType?: string): Promise<Descriptor[] | undefined>;
  /** Runs `fn` with the store-wide lock for `key` (read-modify-write of shared indexes). */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface PutBlobOptions {
  sourceChecked?: boolean;
  commitAfter?: Promise<void>;
}

export type BlobState = { state: 'ok' } | { state: 'missing' } | { state: 'corrupt'; detail: string };

/** Bytes already in memory (a config, a manifest) as the source `putBlob` reads. */
export async function* bytesOf(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/** Serialises async work per key inside this process. */
export function keyedMutex(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** Stores a blob held in memory (a config, a referrer's layer): every attempt yields the same bytes. */
export async function putBytes(store: ImageStore, d: Descriptor, data: Uint8Array): Promise<void> {
  await store.putBlob(d, async function* () {
    yield data;
  });
}
