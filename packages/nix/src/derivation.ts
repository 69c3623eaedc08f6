import { ReleaseError } from '@nixrel/core';
import { type NixOptions, parseNixJson, runNix } from './run.js';
import { isAtLeast, nixVersion } from './version.js';

export interface DerivationOutput {
  path?: string;
  hashAlgo?: string;
  hash?: string;
}

export interface Derivation {
  outputs: Record<string, DerivationOutput>;
  inputSrcs: string[];
  /** Input derivation path -> output names used. */
  inputDrvs: Record<string, string[]>;
  system: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}

const STORE_DIR = '/nix/store';
const abs = (p: string) => (p.startsWith('/') ? p : `${STORE_DIR}/${p}`);

function inputDrvOutputs(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  // Newer Nix: {outputs: [...], dynamicOutputs: {...}}.
  if (v && typeof v === 'object' && Array.isArray((v as { outputs?: unknown }).outputs)) return (v as { outputs: string[] }).outputs;
  return [];
}

/**
 * Normalises `nix show-derivation` (2.8) and `nix derivation show` (newer)
 * output: both are keyed by derivation path; the newest wraps them in
 * `{derivations, version}`, drops the store directory from paths and renames
 * `platform`/`inputSrcs`. The result is keyed by absolute .drv path.
 */
export function normaliseDerivations(json: unknown): Record<string, Derivation> {
  if (!json || typeof json !== 'object') throw new ReleaseError('NIX_ERROR', 'derivation show printed no JSON object');
  const top = json as Record<string, unknown>;
  const map = (top.derivations && typeof top.derivations === 'object' ? top.derivations : top) as Record<string, Record<string, unknown>>;
  const result: Record<string, Derivation> = {};
  for (const [key, d] of Object.entries(map)) {
    const outputs: Record<string, DerivationOutput> = {};
    for (const [name, o] of Object.entries((d.outputs ?? {}) as Record<string, DerivationOutput>)) {
      outputs[name] = { ...o, ...(o.path ? { path: abs(o.path) } : {}) };
    }
    const inputs = d.inputs as { srcs?: string[]; drvs?: Record<string, unknown> } | undefined;
    const inputDrvs: Record<string, string[]> = {};
    for (const [p, v] of Object.entries((d.inputDrvs ?? inputs?.drvs ?? {}) as Record<string, unknown>)) inputDrvs[abs(p)] = inputDrvOutputs(v);
    result[abs(key)] = {
      outputs,
      inputSrcs: ((d.inputSrcs ?? inputs?.srcs ?? []) as string[]).map(abs),
      inputDrvs,
      system: String(d.system ?? d.platform ?? ''),
      builder: String(d.builder ?? ''),
      args: (d.args ?? []) as string[],
      env: (d.env ?? {}) as Record<string, string>,
    };
  }
  return result;
}

/** Shows a derivation (by .drv path or installable) with whichever command this Nix has. */
export async function showDerivation(path: string, opts: NixOptions = {}): Promise<Record<string, Derivation>> {
  const v = await nixVersion(opts);
  // `nix derivation show` arrived in 2.15; `nix show-derivation` was later removed.
  const sub = isAtLeast(v, 2, 15) ? ['derivation', 'show'] : ['show-derivation'];
  const what = `nix ${sub.join(' ')} ${path}`;
  const { stdout } = await runNix([...sub, path], { ...opts, what });
  return normaliseDerivations(parseNixJson<unknown>(stdout, what));
}
