import type { ImageArtifact, ImageRecord, PublishedImage } from '@nixrel/core';
import { pushImage, type RegistryOptions } from '@nixrel/oci';

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

export function recordPublished(record: ImageRecord, published: PublishedImage): void {
  record.repository = published.repository;
  record.digest = published.digest;
  record.mediaType = published.mediaType;
  record.configDigest = published.configDigest;
  record.layers = published.layers;
  record.tags = [...new Set([...record.tags, ...published.tags])];
}
