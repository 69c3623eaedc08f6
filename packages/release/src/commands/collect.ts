/**
 * `pnpm release collect --version V [--collection C] [--registry REF] [--out DIR] [--json]`
 * Records -> release.json -> page -> collection tags, once every image verified.
 */
import { toJson } from '@nixrel/core';
import { type Command, displayPath } from '../cli-context.js';
import { holdingState } from '../cut-release.js';
import { prepareRelease, withVersion } from '../release-context.js';
import { finishRelease } from '../stages/finish.js';
import { parseStepArgs, releaseOptions } from './release-args.js';

export const USAGE = 'usage: pnpm release collect --version V [--collection C] [--registry REF] [--out DIR] [--json]';

export const run: Command = async (args, ctx) => {
  const values = parseStepArgs(args, USAGE);
  const opts = releaseOptions(values, ctx);
  try {
    const c = withVersion(await prepareRelease(opts), opts.version!);
    const result = await holdingState(c, async () => finishRelease(c, await c.state.readRecords(c.specs.map((s) => s.name)), undefined));
    if (values.json) ctx.out(toJson({ version: result.version, manifest: result.manifestPath, page: result.pageDir, slsa: result.manifest.slsa }));
    else {
      ctx.out(`release ${result.version}: SLSA Build L${result.manifest.slsa.level}`);
      ctx.out(`manifest: ${displayPath(ctx, result.manifestPath)}`);
      ctx.out(`page: ${displayPath(ctx, result.pageDir)}/index.html`);
    }
  } finally {
    opts.progress.close();
  }
};
