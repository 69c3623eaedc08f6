/**
 * The publish stage: the image goes to its repository by digest, with its
 * component tag (tags are only ever added, never moved).
 */
import type { ImageArtifact, ImageRecord, PublishedImage } from '@nixrel/core';
import { checkImageBlobs, describeBlobProblems, pushImage, type RegistryOptions } from '@nixrel/oci';
import { imageRepository } from '../release-context.js';
import { componentTag } from '../versioning.js';
import type { Stage } from './stage.js';

/** Pushes the artifact by digest and adds its component tag. */
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

export const publishStage: Stage<ImageArtifact> = {
  name: 'publish',
  inputs: (ctx, record, artifact) => ({ outPath: artifact.outPath, repository: imageRepository(ctx.registry, record.name) }),
  // A resumed release publishes again an image that is no longer whole in the target.
  outputsPresent: (ctx, record) => (record.digest ? stillPublished(imageRepository(ctx.registry, record.name), record.digest, ctx.registryOptions) : false),
  async run(ctx, record, artifact) {
    const { progress } = ctx.opts;
    const tag = componentTag(record.name, record.version, ctx.source.commit);
    const published = await publishImage(artifact, imageRepository(ctx.registry, record.name), tag, {
      ...ctx.registryOptions,
      onProgress: (p) => progress.bytes(record.name, p.bytes, p.total),
    });
    recordPublished(record, published);
  },
};
