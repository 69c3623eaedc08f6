import { ReleaseError } from '@nixrel/core';
import { type NixOptions, parseNixJson, runNix } from './run.js';

export interface BuildResult {
  drvPath: string;
  /** Output name -> store path. */
  outputs: Record<string, string>;
}

/**
 * Builds installables and returns one result per installable, in order.
 * `--no-link`: no gc-root `result` links are left behind (the store paths stay
 * alive until the next garbage collection, which is the caller's business).
 * `--json` rather than `--print-out-paths`, which Nix 2.8 does not have.
 */
export async function build(installables: string[], opts: NixOptions & { rebuild?: boolean } = {}): Promise<BuildResult[]> {
  if (installables.length === 0) return [];
  const args = ['build', '--json', '--no-link', ...(opts.rebuild ? ['--rebuild'] : []), ...installables];
  const what = `nix build ${installables.join(' ')}`;
  const { stdout } = await runNix(args, { ...opts, what });
  const parsed = parseNixJson<unknown>(stdout, what);
  if (!Array.isArray(parsed)) throw new ReleaseError('NIX_ERROR', `${what}: expected a JSON array, got ${typeof parsed}`);
  return parsed.map((r: { drvPath?: unknown; outputs?: unknown }, i) => {
    if (typeof r?.drvPath !== 'string' || typeof r.outputs !== 'object' || r.outputs === null) {
      throw new ReleaseError('NIX_ERROR', `${what}: result ${i} has no drvPath/outputs`, { details: [JSON.stringify(r)] });
    }
    return { drvPath: r.drvPath, outputs: r.outputs as Record<string, string> };
  });
}
