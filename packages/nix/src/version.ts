import { ReleaseError } from '@nixrel/core';
import { type NixOptions, runNix } from './run.js';

export interface NixVersion {
  /** As printed, e.g. `2.8.0` or `2.24.10`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  /** The whole `nix --version` line, e.g. `nix (Nix) 2.8.0`. */
  raw: string;
}

/** Reads a version out of `nix --version` output such as `nix (Nix) 2.8.0`. */
export function parseNixVersion(text: string): NixVersion {
  // The last version on the line: `nix (Determinate Nix 3.6.2) 2.29.0` is Nix 2.29.
  const m = [...text.matchAll(/(\d+)\.(\d+)(?:\.(\d+))?[^\s]*/g)].at(-1);
  if (!m) throw new ReleaseError('NIX_ERROR', `cannot read a version from "nix --version" output: ${text.trim()}`);
  return { version: m[0], major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: text.trim() };
}

export function isAtLeast(v: NixVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

const cache = new Map<string, Promise<NixVersion>>();

/** The version of the nix on PATH (or opts.nixBin); asked once per executable. */
export function nixVersion(opts: NixOptions = {}): Promise<NixVersion> {
  const key = opts.nixBin ?? 'nix';
  let v = cache.get(key);
  if (!v) {
    v = runNix(['--version'], { ...opts, what: 'nix --version' }).then((r) => parseNixVersion(r.stdout));
    // A failure (nix missing) must not be remembered: the user may install it and retry.
    v.catch(() => cache.delete(key));
    cache.set(key, v);
  }
  return v;
}
