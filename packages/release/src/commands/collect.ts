/**
 * `pnpm release collect --version V [--collection C] [--registry REF] [--out DIR] [--json]`
 * Records -> release.json -> page -> collection tags, once every image verified.
 */
import { ReleaseError, toJson } from '@nixrel/core';
import { type Command, displayPath } from '../cli-context.js';
import { finishRelease, prepareRelease, withVersion } from '../cut-release.js';
import { parseReleaseArgs, releaseOptions } from './release-args.js';

const USAGE = 'usage: pnpm release collect --version V [--collection C] [--registry REF] [--out DIR] [--json]';

export const run: Command = async (args, ctx) => {
  const { values, positionals } = parseReleaseArgs(args, USAGE);
  if (positionals.length > 0) throw new ReleaseError('USAGE', `unexpected argument "${positionals[0]}"\n${USAGE}`);
  if (!values.version) throw new ReleaseError('USAGE', `--version is required (from "pnpm release plan")\n${USAGE}`);
  const opts = releaseOptions(values, ctx);
  try {
    const c = withVersion(await prepareRelease(opts), opts.version!);
    const records = (await c.state.readAll()).filter((r) => c.specs.some((s) => s.name === r.name));
    const missing = c.specs.map((s) => s.name).filter((n) => !records.some((r) => r.name === n));
    if (missing.length > 0) throw new ReleaseError('NOT_FOUND', `no records in ${c.state.dir} for: ${missing.join(', ')}`);
    const result = await finishRelease(c, records, undefined);
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
