/**
 * `pnpm release pack [--manifest FILE | --collection C] [--out FILE.tar.gz|DIR] [--page DIR] [--json]`
 * writes the release's audit pack, `<version>.audit.tar.gz` (audit-pack.ts):
 * the same release always gives the same bytes. `--out FILE.tar.gz` names the
 * file; `--out DIR` (default: the current directory) puts it there. The page
 * is taken from `--page DIR`, else `site/<version>` when it exists.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readJsonFile, toJson, writeFileAtomic } from '@nixrel/core';
import { type Command, displayPath, parseCommandArgs } from '../cli-context.js';
import { packFileName, packRelease } from '../pack-release.js';
import { manifestPathArg } from './manifest-arg.js';

export const USAGE = 'usage: pnpm release pack [--manifest FILE | --collection C] [--out FILE.tar.gz|DIR] [--page DIR] [--json]';
const FLAGS = {
  manifest: { type: 'string' },
  collection: { type: 'string' },
  out: { type: 'string' },
  page: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const run: Command = async (args, ctx) => {
  const { values } = parseCommandArgs(args, FLAGS, USAGE);
  if (values.help) {
    ctx.out(USAGE);
    return;
  }
  const cwd = ctx.env.INIT_CWD ?? ctx.repoRoot;
  const manifestPath = await manifestPathArg(values, ctx);
  const { version } = await readJsonFile<{ version?: unknown }>(manifestPath, 'release manifest');
  const pageDir = values.page ? resolve(cwd, values.page) : typeof version === 'string' ? join(ctx.repoRoot, 'site', version) : undefined;
  const { manifest, bytes, files } = await packRelease(manifestPath, pageDir && existsSync(pageDir) ? pageDir : undefined);
  // A name ending in .tar.gz is the file; anything else is the directory it goes into.
  const out = values.out?.endsWith('.tar.gz') ? resolve(cwd, values.out) : join(resolve(cwd, values.out ?? '.'), packFileName(manifest.version));
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, bytes);
  if (values.json) ctx.out(toJson({ pack: out, version: manifest.version, bytes: bytes.length, files }));
  else ctx.out(`wrote ${displayPath(ctx, out)} (${files.length + 1} files, ${bytes.length} bytes)`);
};
