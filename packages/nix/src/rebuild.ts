import { isReleaseError } from '@nixrel/core';
import { build } from './build.js';
import type { NixOptions } from './run.js';

export interface RebuildCheck {
  deterministic: boolean;
  message: string;
}

/**
 * Builds the installable, then builds it again with `nix build --rebuild`, which
 * compares the new output with the one in the store bit for bit. A difference
 * is reported (deterministic: false), any other failure is thrown.
 */
export async function rebuildCheck(installable: string, opts: NixOptions = {}): Promise<RebuildCheck> {
  const [first] = await build([installable], opts);
  try {
    await build([installable], { ...opts, rebuild: true });
  } catch (e) {
    if (isReleaseError(e, 'NIX_ERROR')) {
      const line = [e.message, ...e.details].find((l) => /may not be deterministic|not deterministic/.test(l));
      if (line) return { deterministic: false, message: line.replace(/^error:\s*/, '').trim() };
    }
    throw e;
  }
  const outs = Object.values(first?.outputs ?? {}).join(', ');
  return { deterministic: true, message: `rebuilt ${installable}: output identical (${outs})` };
}
