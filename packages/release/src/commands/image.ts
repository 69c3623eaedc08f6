/**
 * `pnpm release image <name> --version V [--collection C] [--registry REF] [--json]`
 * Build, publish and SBOM for one image: a CI matrix job. Its state directory
 * (.release/<V>/) is what the job hands on to the attestation job.
 */
import { ReleaseError, toJson } from '@nixrel/core';
import type { Command } from '../cli-context.js';
import { holdingState, publishAndDescribe, recordBuilds } from '../cut-release.js';
import { prepareRelease, withVersion } from '../release-context.js';
import { buildRelease } from '../stages/build.js';
import { parseReleaseArgs, releaseOptions } from './release-args.js';

export const USAGE = 'usage: pnpm release image <name> --version V [--collection C] [--registry REF] [--json]';

export const run: Command = async (args, ctx) => {
  const { values, positionals } = parseReleaseArgs(args, USAGE);
  if (positionals.length !== 1) throw new ReleaseError('USAGE', `give exactly one image name\n${USAGE}`);
  if (!values.version) throw new ReleaseError('USAGE', `--version is required (from "pnpm release plan")\n${USAGE}`);
  const opts = releaseOptions({ ...values, images: positionals[0] }, ctx);
  try {
    const base = await prepareRelease(opts);
    const ctxr = withVersion(base, opts.version!);
    const outcome = await buildRelease(base);
    const built = await holdingState(ctxr, async () => {
      const [image] = await recordBuilds(ctxr, outcome);
      if (!image) throw new ReleaseError('NOT_FOUND', `image "${positionals[0]}" was not built`);
      await publishAndDescribe(ctxr, image);
      return image;
    });
    const r = built.record;
    if (values.json) ctx.out(toJson(r));
    else ctx.out(`${r.name}: ${r.repository}@${r.digest}  sbom ${r.sbom?.path} (${r.sbom?.components} components)  state ${ctxr.state.dir}`);
  } finally {
    opts.progress.close();
  }
};
