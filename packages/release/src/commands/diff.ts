/**
 * `pnpm release diff [FROM] [TO] [--collection C] [--json]`: what changed
 * between two releases. FROM and TO are release.json files, audit packs
 * (`<version>.audit.tar.gz`) or versions kept in `.release/`. Without TO, the
 * newest kept release of FROM's collection; without either, the newest kept
 * release against its predecessor.
 */
import { join } from 'node:path';
import { ReleaseError, toJson } from '@nixrel/core';
import { type Command, parseCommandArgs } from '../cli-context.js';
import { formatDiff } from '../diff/format-diff.js';
import { diffReleases } from '../diff/release-diff.js';
import { keptReleases, openRelease, predecessorOf } from '../diff/release-history.js';

export const USAGE = 'usage: pnpm release diff [FROM] [TO] [--collection C] [--json]\n  FROM, TO: a release.json, an audit pack (.audit.tar.gz) or a version in .release/';
const FLAGS = { collection: { type: 'string' }, json: { type: 'boolean' } } as const;

export const run: Command = async (args, ctx) => {
  const { values, positionals } = parseCommandArgs(args, FLAGS, USAGE, true);
  if (positionals.length > 2) throw new ReleaseError('USAGE', `too many arguments: ${positionals.slice(2).join(' ')}\n${USAGE}`);
  const cwd = ctx.env.INIT_CWD ?? ctx.repoRoot;
  const stateRoot = join(ctx.repoRoot, '.release');
  const kept = await keptReleases(stateRoot);
  const newest = (collection: string | undefined) => {
    const r = kept.filter((k) => collection === undefined || k.collection === collection).at(-1);
    if (!r) throw new ReleaseError('NOT_FOUND', `no release${collection ? ` of "${collection}"` : ''} in ${stateRoot}: name the releases to compare\n${USAGE}`);
    return r;
  };

  const [fromArg, toArg] = positionals;
  let from = fromArg === undefined ? undefined : await openRelease(fromArg, cwd, stateRoot);
  const to = toArg !== undefined ? await openRelease(toArg, cwd, stateRoot) : await openRelease(newest(from?.manifest.collection ?? values.collection).manifestPath, cwd, stateRoot);
  if (!from) {
    const m = to.manifest;
    const previous = m.previous?.version ?? predecessorOf(kept, m.collection, m.version, m.date)?.version;
    if (!previous) throw new ReleaseError('NOT_FOUND', `${m.version} has no earlier release of "${m.collection}" in ${stateRoot} to compare with\n${USAGE}`);
    from = await openRelease(previous, cwd, stateRoot);
  }
  const diff = diffReleases(from, to);
  ctx.out(values.json ? toJson(diff) : formatDiff(diff));
};
