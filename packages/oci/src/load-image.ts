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

export interface LoadedImage {
  image: ImageLayout;
  /** True when the image came from the cache: no byte of the artifact was read. */
  cached: boolean;
  /**
   * Set when every layer was just hashed (or is being hashed, see
   * `image.layersVerified`) from a file that had not changed for a while: as
   * long as the file keeps this identity, reading its layers again yields the
   * bytes that were hashed.
   */
  hashedFile?: ArtifactIdentity;
}

/**
 * The image of an artifact: from the cache when the artifact is the same file
 * it was when last read (no byte of it is read then), else read in full and
 * remembered.
 */
export async function loadImage(artifact: { path: string; format?: ArtifactFormat }, opts: LoadOptions = {}): Promise<LoadedImage> {
  const env = opts.env ?? process.env;
  const dir = cacheDir(opts);
  const cache = dir ? new ImageCache(dir, opts.logger ?? silentLogger) : undefined;
  const before = await artifactIdentity(artifact.path);
  const hit = await cache?.get(before, artifact.format);
  if (hit && cacheable(before, hit.format, env)) return { image: imageLayout(artifact.path, hit, opts.onRead), cached: true };

  const image = await readImageArtifact(artifact.path, artifact.format, opts);
  if (!cacheable(before, image.format, env) || isRacy(before)) return { image, cached: false };
  // Trusted (and remembered) only if the file did not change while it was read.
  const unchanged = async () => {
    const after = await artifactIdentity(artifact.path).catch(() => undefined);
    return after !== undefined && sameIdentity(before, after);
  };
  if (image.layersVerified) {
    // Still hashing: remembered once every layer matched, if the file stayed the same meanwhile.
    image.layersVerified = image.layersVerified.then(async () => {
      if (await unchanged()) await cache?.put(before, image);
    });
    image.layersVerified.catch(() => undefined);
    return (await unchanged()) ? { image, cached: false, hashedFile: before } : { image, cached: false };
  }
  if (!(await unchanged())) return { image, cached: false };
  await cache?.put(before, image);
  return { image, cached: false, hashedFile: before };
}
