/** Store path names and Nix's own split of a derivation name into name and version. */

const STORE_PATH = /^(\/[^\0]*)\/([0-9a-df-np-sv-z]{32})-([A-Za-z0-9+\-._?=]+)$/;

export function isStorePath(path: string): boolean {
  return STORE_PATH.test(path);
}

/** The part of a store path after `<hash>-`, e.g. `hello-2.12.1` or `openssl-3.0.1-dev`. */
export function storePathName(path: string): string {
  const m = STORE_PATH.exec(path);
  if (!m) throw new RangeError(`"${path}" is not a store path`);
  return m[3]!;
}

/**
 * Same rule as `builtins.parseDrvName`: the version starts after the first dash
 * that is followed by something other than a letter.
 */
export function parseDrvName(name: string): { name: string; version?: string } {
  for (let i = 0; i < name.length - 1; i++) {
    if (name[i] === '-' && !/[A-Za-z]/.test(name[i + 1]!)) {
      return { name: name.slice(0, i), version: name.slice(i + 1) };
    }
  }
  return { name };
}
