import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ReleaseError } from './errors.js';

/**
 * The file that marks a directory as written by this tool. Only a marked
 * directory (or an empty or new one) is ever written into or replaced, so
 * `--out .` or `--out ~` cannot destroy what the tool did not create.
 */
export const OUTPUT_MARKER = '.nixrel-output';

/**
 * Why `dir` must not be an output directory, or undefined when it may be
 * one: `/`, the home directory, the repository root or a parent of it, or a
 * non-empty directory without the marker.
 */
export async function outputDirRefusal(dir: string, repoRoot: string): Promise<string | undefined> {
  const abs = resolve(dir);
  const root = resolve(repoRoot);
  if (abs === sep) return 'it is the filesystem root';
  if (abs === resolve(homedir())) return 'it is the home directory';
  if (abs === root) return 'it is the repository root';
  if (root.startsWith(`${abs}${sep}`)) return 'it contains the repository';
  if (!existsSync(abs)) return undefined;
  const entries = await readdir(abs).catch((e: NodeJS.ErrnoException) => {
    throw new ReleaseError('INVALID_INPUT', `output directory ${abs} cannot be read: ${e.code ?? e.message}`);
  });
  if (entries.length > 0 && !entries.includes(OUTPUT_MARKER)) return `it is not empty and was not written by this tool (no ${OUTPUT_MARKER} in it)`;
  return undefined;
}

/** Refuses (INVALID_INPUT, naming the directory, the reason and the fix) what outputDirRefusal refuses. */
export async function assertOutputDir(dir: string, repoRoot: string, flag = '--out'): Promise<void> {
  const why = await outputDirRefusal(dir, repoRoot);
  if (why) {
    throw new ReleaseError('INVALID_INPUT', `refusing to write into ${resolve(dir)}: ${why}; its files would be replaced. Pass ${flag} a new or empty directory`);
  }
}

/** Checks `dir` (assertOutputDir), creates it and marks it as written by this tool. */
export async function claimOutputDir(dir: string, repoRoot: string, flag = '--out'): Promise<void> {
  await assertOutputDir(dir, repoRoot, flag);
  await markOutputDir(dir);
}

/** Creates `dir` (a fresh one the tool fills) and puts the marker in it. */
export async function markOutputDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, OUTPUT_MARKER), 'written by nixrel: may be replaced by the next run\n');
}
