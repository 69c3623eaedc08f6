/**
 * The release, top to bottom. One call per stage, in pipeline order:
 *
 *   catalog -> build -> publish -> sbom -> provenance -> attest -> verify
 *     (-> reproduce) -> finish (release.json, page, collection tags)
 *
 * Each stage lives in `stages/<stage>.ts` with the same shape (see
 * stages/stage.ts): each image's record is written to
 * `.release/<version>/images/<name>.json` after every stage with the hash of
 * that stage's inputs, so a re-run (after a kill, or with nothing changed)
 * skips what is done. The distributed release (plan, image, attest-all,
 * collect) runs the same parts as separate CI jobs.
 */
import { assertOutputDir, forEachBounded, type ImageRecord, toReleaseError } from '@nixrel/core';
import { prepareRelease, type ReleaseContext, type ReleaseOptions, type ReleaseResult, withVersion } from './release-context.js';
import { releaseSigner, type SignerChoice } from './signer.js';
import { attestStage } from './stages/attest.js';
import { type BuildOutcome, buildRelease, buildStage, newRecord } from './stages/build.js';
import { finishRelease, outDirOf } from './stages/finish.js';
import { provenanceStage } from './stages/provenance.js';
import { publishStage } from './stages/publish.js';
import { reproduceStage } from './stages/reproduce.js';
import { sbomStage } from './stages/sbom.js';
import { runStage } from './stages/stage.js';
import { verifyStage } from './stages/verify.js';
import { writePointer } from './state.js';
import { lockStateDir } from './state-lock.js';
import { resolveVersion } from './versioning.js';

export interface BuiltImage {
  artifact: BuildOutcome['artifacts'][number];
  record: ImageRecord;
}

/** Runs `work` holding the lock of the release's state directory: one process per release at a time. */
export async function holdingState<T>(ctx: ReleaseContext, work: () => Promise<T>): Promise<T> {
  const lock = await lockStateDir(ctx.state.dir, {
    wait: ctx.opts.wait ?? false,
    onWait: (h) => ctx.opts.progress.step(`waiting for the release in pid ${h.pid} (since ${h.since}) to finish with ${ctx.state.dir}`),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** Each image's record takes the facts of its build (resuming the record of an earlier run). */
export async function recordBuilds(ctx: ReleaseContext, outcome: BuildOutcome): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  for (const artifact of outcome.artifacts) {
    const spec = ctx.specs.find((s) => s.name === artifact.name)!;
    const record = (await ctx.state.readRecord(spec.name)) ?? newRecord(spec);
    await runStage(ctx, buildStage, record, { artifact, outcome });
    built.push({ artifact, record });
  }
  return built;
}

/** Publish and SBOM for one image: what a CI matrix job does. */
export async function publishAndDescribe(ctx: ReleaseContext, { artifact, record }: BuiltImage): Promise<void> {
  await runStage(ctx, publishStage, record, artifact);
  await runStage(ctx, sbomStage, record, artifact);
}

/** Provenance, signing/attestation and verification for one image: the isolated job's work. */
export async function attestAndVerify(ctx: ReleaseContext, record: ImageRecord, signer: SignerChoice): Promise<void> {
  await runStage(ctx, provenanceStage, record, signer);
  await runStage(ctx, attestStage, record, signer);
  await runStage(ctx, verifyStage, record, signer);
}

/** The whole release on this machine. */
export async function cutRelease(opts: ReleaseOptions): Promise<ReleaseResult> {
  // A page directory the tool may not write refuses the release before anything is built.
  if (opts.outDir) await assertOutputDir(outDirOf({ ...opts, outDir: opts.outDir }), opts.repoRoot);
  const base = await prepareRelease(opts);
  const outcome = await buildRelease(base);
  const ctx = withVersion(base, await resolveVersion(base, new Map(outcome.artifacts.map((a) => [a.name, a.version]))));
  opts.progress.step(`release ${ctx.version} of ${opts.collection}: ${ctx.specs.length} images to ${ctx.registry}`);
  return holdingState(ctx, () => publishRelease(ctx, outcome));
}

/** Everything after the build, with the state directory locked. */
async function publishRelease(ctx: ReleaseContext, outcome: BuildOutcome): Promise<ReleaseResult> {
  const { opts } = ctx;
  await writePointer(ctx.stateRoot, {
    collection: opts.collection,
    version: ctx.version,
    commit: ctx.source.commit,
    images: ctx.specs.map((s) => s.name).sort(),
    complete: false,
  });
  const signer = await releaseSigner(ctx);
  const built = await recordBuilds(ctx, outcome);
  await forEachBounded(
    built,
    opts.concurrency ?? 2,
    async (image) => {
      const { record } = image;
      try {
        await publishAndDescribe(ctx, image);
        await attestAndVerify(ctx, record, signer);
        if (opts.reproduce) await runStage(ctx, reproduceStage, record, undefined);
        opts.progress.stage(record.name, 'done', record.digest);
      } catch (e) {
        opts.progress.stage(record.name, 'failed', toReleaseError(e).message);
        throw e;
      }
    },
    'images',
  );
  return finishRelease(ctx, built.map((b) => b.record), signer);
}
