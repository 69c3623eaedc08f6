import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ReleaseError } from '@nixrel/core';
import type { CliContext } from '../cli-context.js';
import { readPointer } from '../state.js';
import { DEFAULT_COLLECTION } from './release-args.js';

/** `--manifest FILE`, else the last release of `--collection` (default collection) in .release/. */
export async function manifestPathArg(values: { manifest?: string; collection?: string }, ctx: CliContext): Promise<string> {
  let manifestPath = values.manifest ? resolve(ctx.env.INIT_CWD ?? ctx.repoRoot, values.manifest) : undefined;
  if (!manifestPath) {
    const collection = values.collection ?? DEFAULT_COLLECTION;
    const last = await readPointer(join(ctx.repoRoot, '.release'), collection);
    if (!last) throw new ReleaseError('NOT_FOUND', `no release of "${collection}" in .release/: pass --manifest FILE`);
    manifestPath = join(ctx.repoRoot, '.release', last.version, 'release.json');
  }
  if (!existsSync(manifestPath)) throw new ReleaseError('NOT_FOUND', `release manifest not found: ${manifestPath}`);
  return manifestPath;
}
