import { type NixOptions, parseNixJson, runNix } from './run.js';

/**
 * Evaluates an installable to JSON (`nix eval --json`). `apply` is a Nix
 * function applied to the value first, e.g. to pick a few attributes so the
 * rest is never evaluated.
 */
export async function evalJson<T = unknown>(installable: string, opts: NixOptions & { apply?: string } = {}): Promise<T> {
  const args = ['eval', '--json', installable, ...(opts.apply ? ['--apply', opts.apply] : [])];
  const what = `nix eval ${installable}`;
  const { stdout } = await runNix(args, { ...opts, what });
  return parseNixJson<T>(stdout, what);
}
