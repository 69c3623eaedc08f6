import { lstatSync, realpathSync } from 'node:fs';

/**
 * Host paths the sandbox shows builds that use host tools (the example
 * collection). /bin/sh is bound to the shell it resolves to: newer Nix mounts
 * its own /bin/sh, and where /bin is a symlink (merged /usr: Debian 12, Ubuntu
 * 24.04) listing /bin leaves a link that mount fails on ("File exists"); our
 * /bin/sh entry sorts after Nix's and replaces it, so every Nix runs the same
 * shell. /bin itself only where it is a real directory.
 */
export const HOST_SANDBOX_PATHS: readonly string[] = [
  `/bin/sh=${realpathSync('/bin/sh')}`,
  ...(lstatSync('/bin').isSymbolicLink() ? [] : ['/bin']),
  '/usr',
  '/lib',
  '/lib64',
  '/etc/alternatives',
];

/**
 * Nix settings for a machine without network and without a nix daemon or
 * nixbld group (single-user, root). Used when RELEASE_NIX_OFFLINE=1, and by the
 * tests.
 */
export const OFFLINE_NIX_SETTINGS: readonly string[] = [
  'experimental-features = nix-command flakes',
  // No nixbld group on such machines: build as the calling user.
  'build-users-group =',
  // No cache to ask; without this every build waits on DNS.
  'substituters =',
  'use-registries = false',
  'sandbox = true',
  `extra-sandbox-paths = ${HOST_SANDBOX_PATHS.join(' ')}`,
];

/**
 * The environment with the offline settings appended to any NIX_CONFIG already
 * there (later lines win in NIX_CONFIG, so ours take effect and the rest of the
 * user's settings stay).
 */
export function withOfflineNixConfig(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const existing = env.NIX_CONFIG?.trim();
  const config = [...(existing ? [existing] : []), ...OFFLINE_NIX_SETTINGS].join('\n');
  return { ...env, NIX_CONFIG: config };
}

/** The opt-in: RELEASE_NIX_OFFLINE=1 (or true/yes) adds the offline settings. */
export function nixEnvFor(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const flag = (env.RELEASE_NIX_OFFLINE ?? '').toLowerCase();
  return flag === '1' || flag === 'true' || flag === 'yes' ? withOfflineNixConfig(env) : env;
}
