import type { ArtifactFormat } from '@nixrel/core';
import { silentLogger } from '@nixrel/core';
import { type ImageLayout, imageLayout, type ReadOptions, readImageArtifact } from './archive.js';
import { type ArtifactIdentity, artifactIdentity, type CacheOptions, cacheDir, ImageCache, isRacy, sameIdentity } from './image-cache.js';

export interface LoadOptions extends ReadOptions, CacheOptions {}

/**
 * A stream script's output is only as fixed as everything the script reads:
 * inside the Nix store that is its immutable closure; elsewhere it may read
 * anything, so its result is not remembered.
 */
function cacheable(id: ArtifactIdentity, format: ArtifactFormat, env: NodeJS.ProcessEnv): boolean {
  if (format !== 'docker-stream') return true;
  const store = (env.NIX_STORE_DIR || '/nix/store').replace(/\/+$/, '');
  return id.path.startsWith(`${store}/`);
}

/**
 * The image of an artifact: from the cache when the artifact is the same file
 * it was when last read (no byte of it is read then), else read in full and
 * remembered.
 */
export async function loadImage(artifact: { path: string; format?: ArtifactFormat }, opts: LoadOptions = {}): Promise<{ image: ImageLayout; cached: boolean }> {
  const dir = cacheDir(opts);
  if (!dir) return { image: await readImageArtifact(artifact.path, artifact.format, opts), cached: false };
  const env = opts.env ?? process.env;
  const cache = new ImageCache(dir, opts.logger ?? silentLogger);
  const before = await artifactIdentity(artifact.path);
  const hit = await cache.get(before, artifact.format);
  if (hit && cacheable(before, hit.format, env)) return { image: imageLayout(artifact.path, hit, opts.onRead), cached: true };

  const image = await readImageArtifact(artifact.path, artifact.format, opts);
  if (cacheable(before, image.format, env) && !isRacy(before)) {
    // Remembered only if the file did not change while it was read.
    const after = await artifactIdentity(artifact.path).catch(() => undefined);
    if (after && sameIdentity(before, after)) await cache.put(before, image);
  }
  return { image, cached: false };
}
