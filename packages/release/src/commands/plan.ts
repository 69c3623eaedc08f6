/**
 * `pnpm release plan [--collection C] [--images a,b] [--registry REF] [--version V] --json`
 * The release's version and its CI matrix (one job per image), from one Nix
 * evaluation; nothing is built.
 */
import { ReleaseError, toJson } from '@nixrel/core';
import type { Command } from '../cli-context.js';
import { imageRepository, prepareRelease } from '../release-context.js';
import { evaluateImages } from '../stages/build.js';
import { resolveVersion } from '../versioning.js';
import { parseReleaseArgs, releaseOptions } from './release-args.js';

export const USAGE = 'usage: pnpm release plan [--collection C] [--images a,b] [--registry REF] [--version V] [--json]';

export const run: Command = async (args, ctx) => {
  const { values, positionals } = parseReleaseArgs(args, USAGE);
  if (positionals.length > 0) throw new ReleaseError('USAGE', `unexpected argument "${positionals[0]}"\n${USAGE}`);
  const opts = releaseOptions(values, ctx);
  const base = await prepareRelease(opts);
  const evaluated = await evaluateImages(base.specs, { repoRoot: ctx.repoRoot, logger: ctx.logger, env: base.nixEnv });
  const version = await resolveVersion(base, new Map(evaluated.map((e) => [e.name, e.version])));
  const plan = {
    collection: opts.collection,
    version,
    registry: base.registry,
    commit: base.source.commit,
    images: evaluated.map((e) => ({ name: e.name, version: e.version, repository: imageRepository(base.registry, e.name) })),
    matrix: { include: evaluated.map((e) => ({ image: e.name })) },
  };
  if (values.json) ctx.out(toJson(plan));
  else {
    ctx.out(`release ${plan.version} of ${plan.collection} from ${plan.commit.slice(0, 12)}:`);
    for (const i of plan.images) ctx.out(`  ${i.name} ${i.version} -> ${i.repository}`);
  }
};
