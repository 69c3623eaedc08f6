import { assessSlsaLevel, type BuildContext, type ImageRecord, type ReleaseManifest } from '@nixrel/core';
import type { SourceInfo } from './source.js';

export interface ManifestInput {
  collection: string;
  version: string;
  date: Date;
  source: SourceInfo;
  tag?: string;
  builder: ReleaseManifest['builder'];
  signer: ReleaseManifest['signer'];
  registry: string;
  images: ImageRecord[];
  buildContext: BuildContext;
}

/**
 * Collects the image records into release.json, computing the SLSA level from
 * the evidence. Validated against the schema before it is written.
 */
export function assembleManifest(input: ManifestInput): ReleaseManifest {
  const images = [...input.images].sort((a, b) => a.name.localeCompare(b.name));
  const manifest: ReleaseManifest = {
    schemaVersion: 1,
    collection: input.collection,
    version: input.version,
    date: input.date.toISOString(),
    source: {
      repository: input.source.repository,
      commit: input.source.commit,
      ...(input.tag ? { tag: input.tag } : {}),
      ...(input.source.url ? { url: input.source.url } : {}),
    },
    builder: input.builder,
    signer: input.signer,
    registry: input.registry,
    slsa: assessSlsaLevel(images, input.buildContext),
    images,
  };
  return manifest;
}
