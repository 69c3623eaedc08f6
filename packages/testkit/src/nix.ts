import { lstatSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Nix settings the tests build with: no network, no daemon, no nixbld group,
 * host tools visible in the sandbox. The same list ships in @nixrel/nix (the
 * product applies it only when RELEASE_NIX_OFFLINE=1); a test there checks both
 * lists are equal (and says why /bin/sh is bound and /bin is not, where /bin is a symlink).
 */
export const OFFLINE_NIX_CONFIG_LINES: readonly string[] = [
  'experimental-features = nix-command flakes',
  'build-users-group =',
  'substituters =',
  'use-registries = false',
  'sandbox = true',
  `extra-sandbox-paths = /bin/sh=${realpathSync('/bin/sh')}${lstatSync('/bin').isSymbolicLink() ? '' : ' /bin'} /usr /lib /lib64 /etc/alternatives`,
];

/** process.env (or `base`) with NIX_CONFIG set to the offline settings. */
export function offlineNixEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, NIX_CONFIG: OFFLINE_NIX_CONFIG_LINES.join('\n') };
}

export interface TempDir {
  dir: string;
  cleanup: () => Promise<void>;
}

/** Writes files (relative path -> content) into a fresh temporary directory. */
export async function makeTempTree(files: Record<string, string>, prefix = 'nixrel-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  for (const [rel, content] of Object.entries(files)) {
    const file = join(dir, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A flake with no inputs whose packages are plain `builtins.derivation`s built
 * by /bin/sh with host tools. `derivations` maps an attribute name to a shell
 * script that writes `$out`; the scripts may reference each other as
 * `@<name>@`, which becomes that derivation's store path (a real reference).
 */
export function tinyFlakeNix(derivations: Record<string, string>, system = 'x86_64-linux'): string {
  const names = Object.keys(derivations);
  const script = (s: string) => JSON.stringify(s).replace(/@([a-zA-Z0-9_-]+)@/g, (_m, n: string) => `\${${n}}`);
  const lets = names
    .map((n) => `    ${n} = derivation { name = "${n}"; system = "${system}"; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; args = [ "-c" ${script(derivations[n]!)} ]; };`)
    .join('\n');
  return `{
  outputs = { self }:
    let
${lets}
    in { packages.${system} = { inherit ${names.join(' ')}; }; };
}
`;
}

/** A temporary directory holding a tiny flake (see tinyFlakeNix). */
export function makeTinyFlake(derivations: Record<string, string>, system?: string): Promise<TempDir> {
  return makeTempTree({ 'flake.nix': tinyFlakeNix(derivations, system) }, 'nixrel-flake-');
}
