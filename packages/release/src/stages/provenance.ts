/**
 * The provenance stage: an in-toto statement with a SLSA v1.0 predicate
 * describing how the image was built (flake, lock, source commit, Nix, CI run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildProvenance, githubActionsContext, githubBuilderId } from '@nixrel/attest';
import { type ImageRecord, ReleaseError, sha256Digest, writeFileAtomic } from '@nixrel/core';
import { imageRepository, type ReleaseContext } from '../release-context.js';
import type { SignerChoice } from '../signer.js';
import type { SourceInfo } from '../source.js';
import { ReleaseState } from '../state.js';
import type { Stage } from './stage.js';

/**
 * The flake as anyone can fetch it: `git+<repository>?rev=<commit>[&dir=<flake>]`
 * when the source has a web URL; else the local path it was built from.
 */
export function publishedFlakeRef(source: SourceInfo, record: ImageRecord): { ref: string; attribute: string } {
  const [localRef, attribute] = record.build!.installable.split('#') as [string, string];
  if (!source.url) return { ref: localRef, attribute };
  const dir = record.flake && record.flake !== '.' ? `&dir=${encodeURIComponent(record.flake)}` : '';
  return { ref: `git+${source.url}?rev=${source.commit}${dir}`, attribute };
}

function flakeLockOf(ctx: ReleaseContext, record: ImageRecord): string | undefined {
  const path = join(ctx.opts.repoRoot, record.flake ?? '.', 'flake.lock');
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Attestation needs the build, the published digest and the SBOM. */
export function assertReadyForAttestation(ctx: ReleaseContext, record: ImageRecord): asserts record is ImageRecord & Required<Pick<ImageRecord, 'digest' | 'sbom' | 'build'>> {
  if (!record.digest || !record.sbom || !record.build) {
    throw new ReleaseError('INVALID_INPUT', `${record.name}: build, publish and sbom must finish before attestation (record ${ctx.state.recordPath(record.name)})`);
  }
}

/**
 * Takes the signer because in a GitHub reusable workflow the builder is the
 * signing workflow its token names (job_workflow_ref), not the caller.
 */
export const provenanceStage: Stage<SignerChoice | undefined> = {
  name: 'provenance',
  inputs(ctx, record) {
    assertReadyForAttestation(ctx, record);
    return {
      digest: record.digest,
      repository: imageRepository(ctx.registry, record.name),
      sbom: record.sbom.digest,
      commit: ctx.source.commit,
      version: ctx.version,
      flakeLock: flakeLockOf(ctx, record),
      build: record.build,
    };
  },
  outputsPresent: (ctx, record) => existsSync(join(ctx.state.dir, ReleaseState.provenanceFile(record.name))),
  async run(ctx, record, signer) {
    assertReadyForAttestation(ctx, record);
    const ci = githubActionsContext(ctx.opts.env);
    const flakeLock = flakeLockOf(ctx, record);
    const statement = buildProvenance({
      image: { repository: imageRepository(ctx.registry, record.name), digest: record.digest },
      flake: publishedFlakeRef(ctx.source, record),
      source: { repository: ctx.source.repository, commit: ctx.source.commit, ...(ctx.source.ref ? { ref: ctx.source.ref } : {}) },
      collection: record.collection,
      releaseVersion: ctx.version,
      nix: { version: record.build.nixVersion, system: record.build.system },
      ...(flakeLock ? { flakeLock } : {}),
      sbom: { digest: record.sbom.digest, name: basename(record.sbom.path) },
      ...(ci ? { ci, builderId: githubBuilderId(ci, signer?.token) } : {}),
      startedOn: record.build.startedOn,
      finishedOn: record.build.finishedOn,
    });
    const file = ReleaseState.provenanceFile(record.name);
    const text = `${JSON.stringify(statement, null, 2)}\n`;
    await writeFileAtomic(join(ctx.state.dir, file), text);
    record.provenance = {
      path: file,
      digest: sha256Digest(text),
      predicateType: statement.predicateType,
      buildType: statement.predicate.buildDefinition.buildType,
    };
  },
};
