import type { ImageRecord, StageName } from '@nixrel/core';
import type { ReleaseContext } from '../release-context.js';
import { inputHash, markStage, stageIsCurrent } from '../state.js';

/**
 * One stage of the pipeline for one image. Every stage has this shape: what
 * it takes besides the record (`In`), the ImageRecord it updates, and the
 * hash of its inputs, so a re-run skips a stage whose inputs are unchanged
 * and whose outputs are still there.
 */
export interface Stage<In> {
  readonly name: StageName;
  /** Everything the stage reads; equal inputs mean its outputs can be reused. */
  inputs(ctx: ReleaseContext, record: ImageRecord, input: In): unknown;
  /** Run even when the inputs are unchanged (verification checks what the registry serves now). */
  readonly recheck?: boolean;
  /** Progress was reported before the stage ran for every image at once (the Nix build). */
  readonly reportedByCaller?: boolean;
  /** The files it wrote are still there (checked only when the inputs are unchanged); default yes. */
  outputsPresent?(ctx: ReleaseContext, record: ImageRecord): boolean | Promise<boolean>;
  /** Does the work, updating the record; 'unchanged' when the record was already right (nothing is written). */
  run(ctx: ReleaseContext, record: ImageRecord, input: In, hash: string): Promise<'unchanged' | undefined>;
  /** Runs after the record is written: throws when what the stage recorded refuses the release. */
  check?(record: ImageRecord): void;
}

/** Runs one stage for one image, unless its inputs are unchanged, and persists the record. */
export async function runStage<In>(ctx: ReleaseContext, stage: Stage<In>, record: ImageRecord, input: In): Promise<void> {
  const hash = inputHash(stage.inputs(ctx, record, input));
  const skip = !stage.recheck && stageIsCurrent(record, stage.name, hash) && ((await stage.outputsPresent?.(ctx, record)) ?? true);
  if (!skip) {
    if (!stage.reportedByCaller) ctx.opts.progress.stage(record.name, stage.name);
    if ((await stage.run(ctx, record, input, hash)) !== 'unchanged') {
      markStage(record, stage.name, hash);
      await ctx.state.writeRecord(record);
    }
  }
  stage.check?.(record);
}
