import { assertTag, ReleaseError } from '@nixrel/core';
import { parseImageRef, requireDigest } from './refs.js';
import type { RegistryOptions } from './registry.js';
import type { ImageStore } from './store.js';
import { openStore } from './target.js';

/** Tag conflicts are found before anything is written: a tag on another digest is never moved. */
export async function checkTagsFree(store: ImageStore, digest: string, tags: string[]): Promise<string[]> {
  const todo: string[] = [];
  for (const tag of tags) {
    assertTag(tag);
    const current = await store.resolve(tag);
    if (current && current.digest !== digest) {
      throw new ReleaseError('CONFLICT', `tag ${store.name}:${tag} already points at ${current.digest}; tags are never moved (pushing ${digest})`);
    }
    if (!current) todo.push(tag);
  }
  return todo;
}

/**
 * Adds tags to a manifest already in the store; only after blobs and manifest
 * are in place. Tag writes to one repository are serialised (in this process,
 * and between processes of this machine); under that lock each tag is
 * checked just before it is written and read back after, so of two racing
 * pushes one wins and the other ends in CONFLICT naming both digests.
 */
export async function tagManifest(store: ImageStore, digest: string, tags: string[]): Promise<void> {
  const wanted = [...new Set(tags)];
  if (wanted.length === 0) return;
  await store.exclusive('tags', async () => {
    const todo = await checkTagsFree(store, digest, wanted);
    if (todo.length === 0) return;
    const manifest = await store.getManifest(digest);
    if (!manifest) throw new ReleaseError('NOT_FOUND', `manifest ${store.name}@${digest} not found; cannot tag it`);
    for (const tag of todo) {
      const before = await store.resolve(tag);
      if (before && before.digest !== digest) {
        throw new ReleaseError('CONFLICT', `tag ${store.name}:${tag} was set to ${before.digest} by another writer just before it was to point at ${digest}; tags are never moved`);
      }
      await store.putManifest(tag, manifest.bytes, manifest.mediaType);
      const now = await store.resolve(tag);
      if (now?.digest !== digest) {
        throw new ReleaseError('CONFLICT', `tag ${store.name}:${tag} was set to ${now?.digest ?? 'nothing'} by another writer while it was being pointed at ${digest}`);
      }
    }
  });
}

/** Adds tags to `<repo>@sha256:…`; a tag on the same digest is a no-op, on another digest a CONFLICT. */
export async function addTags(image: string, tags: string[], opts: RegistryOptions = {}): Promise<void> {
  const ref = parseImageRef(image);
  const digest = requireDigest(ref, image);
  for (const t of tags) assertTag(t);
  const { store } = openStore(ref, opts);
  await tagManifest(store, digest, tags);
}

export async function listTags(repository: string, opts: RegistryOptions = {}): Promise<string[]> {
  const { store } = openStore(repository, opts);
  return store.listTags();
}

/** What a reference points at: digest, media type and size of its manifest. */
export async function resolveImage(ref: string, opts: RegistryOptions = {}): Promise<{ digest: string; mediaType: string; size: number }> {
  const { store, ref: parsed } = openStore(ref, opts);
  const key = parsed.digest ?? parsed.tag ?? 'latest';
  const d = await store.resolve(key);
  if (!d) throw new ReleaseError('NOT_FOUND', `image ${ref} not found`);
  return { digest: d.digest, mediaType: d.mediaType, size: d.size };
}
