import { isAbsolute, relative } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Logger, ReleaseError } from '@nixrel/core';

/** What every command gets: where the repository is, how to print, how to log. */
export interface CliContext {
  /** Repository root (the directory holding pnpm-workspace.yaml). */
  repoRoot: string;
  /** Results go here (stdout); logs and progress go to the logger (stderr). */
  out: (text: string) => void;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** A command takes its own arguments (after the command word) and throws ReleaseError on failure. */
export type Command = (args: string[], ctx: CliContext) => Promise<void>;

/** A path as the user reads it: relative inside the repository, absolute outside it. */
export function displayPath(ctx: CliContext, path: string): string {
  const rel = relative(ctx.repoRoot, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/**
 * Parses a command's flags strictly (an unknown flag is an error); positional
 * arguments are allowed only when `positionals` is set. Errors carry the usage.
 */
type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends FlagOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;

export function parseCommandArgs<const O extends FlagOptions>(args: string[], options: O, usage: string, positionals = false): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new ReleaseError('USAGE', `${(e as Error).message}\n${usage}`);
  }
}
