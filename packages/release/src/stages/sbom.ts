/**
 * The SBOM stage: a CycloneDX SBOM made from the image's Nix closure, naming
 * the image by digest and repository.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageArtifact } from '@nixrel/core';
import { imageRepository, type ReleaseContext } from '../release-context.js';
import { ReleaseState } from '../state.js';
import type { Stage } from './stage.js';

/** SOURCE_DATE_EPOCH when set, else the commit time: the same commit gives the same SBOM. */
function sourceDateEpoch(ctx: ReleaseContext): number {
  const fromEnv = ctx.opts.env.SOURCE_DATE_EPOCH;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : ctx.source.commitTime;
}

export const sbomStage: Stage<ImageArtifact> = {
  name: 'sbom',
  // The SBOM names the repository; provenance and attestations too, and the attestations live there.
  inputs: (ctx, record, artifact) => ({
    closure: artifact.closurePath,
    digest: record.digest,
    repository: imageRepository(ctx.registry, record.name),
    commitTime: ctx.source.commitTime,
  }),
  outputsPresent: (ctx, record) => existsSync(join(ctx.state.dir, ReleaseState.sbomFile(record.name))),
  async run(ctx, record, artifact) {
    const sbomFile = ReleaseState.sbomFile(record.name);
    // Loaded only when an SBOM is to be made: the CycloneDX library and its schemas are heavy to import.
    const { generateSbom } = await import('@nixrel/sbom');
    const sbom = await generateSbom({
      closureFile: artifact.closurePath,
      outFile: join(ctx.state.dir, sbomFile),
      image: { digest: record.digest!, repositoryUrl: imageRepository(ctx.registry, record.name) },
      sourceDateEpoch: sourceDateEpoch(ctx),
      checkStore: true,
    });
    record.sbom = { ...sbom, path: sbomFile };
  },
};
