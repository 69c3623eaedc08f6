import type { ImageArtifact, ImageRecord, PublishedImage } from '@nixrel/core';
import { checkImageBlobs, describeBlobProblems, pushImage, type RegistryOptions } from '@nixrel/oci';

/**
 * Where an image of the release goes: `<registry>/<name>`. The embedded default
 * registry is an OCI layout directory per image (`oci:.release/oci/<name>`).
 */
export function imageRepository(registry: string, name: string): string {
  return `${registry.replace(/\/+$/, '')}/${name}`;
}

/** Pushes the artifact by digest and adds its component tag (tags are only ever added). */
export async function publishImage(
  artifact: ImageArtifact,
  repository: string,
  componentTag: string,
  opts: RegistryOptions,
): Promise<PublishedImage> {
  return pushImage({ path: artifact.outPath, format: artifact.format }, `${repository}:${componentTag}`, {
    ...opts,
    tags: [componentTag],
  });
}

/**
 * On resume: whether the image an earlier run published is still whole in the
 * target (manifest, config and layers present and hashing to their digests);
 * if not, the caller publishes it again, which stores the damaged blobs anew.
 */
export async function stillPublished(repository: string, digest: string, opts: RegistryOptions): Promise<boolean> {
  const check = await checkImageBlobs(repository, digest, opts);
  if (!check.ok) opts.logger?.warn(`${check.image} is no longer whole, publishing it again: ${describeBlobProblems(check).join('; ')}`);
  return check.ok;
}

export function recordPublished(record: ImageRecord, published: PublishedImage): void {
  record.repository = published.repository;
  record.digest = published.digest;
  record.mediaType = published.mediaType;
  record.configDigest = published.configDigest;
  record.layers = published.layers;
  record.tags = [...new Set([...record.tags, ...published.tags])];
}
