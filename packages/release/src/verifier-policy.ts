/**
 * The verifier's policy, from the verifier's own flags (cosign's names):
 * `--certificate-identity ID | --certificate-identity-regexp RE` with
 * `--certificate-oidc-issuer ISS` for keyless releases, or `--key FILE` for
 * key-signed ones, plus `--trusted-root FILE`. It never comes from the release
 * being verified: a release's signer fields and key file are claims to check
 * against it. Without a policy, the error shows what the release claims, so a
 * user can check it and pin it.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  customSigstoreServices,
  identityPattern,
  keyFingerprint,
  keyTrust,
  loadPublicKey,
  loadTrustedRoot,
  PUBLIC_GOOD_TUF_MIRROR,
  publicGoodTrustedRoot,
  type Trust,
  type TufOptions,
  tufOptionsFromEnv,
} from '@nixrel/attest';
import { ReleaseError, type VerificationPolicy, type VerificationReport } from '@nixrel/core';
import type { SignerChoice } from './signer.js';

export const POLICY_FLAGS = {
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  key: { type: 'string' },
} as const;

/** How the policy flags read in a usage line. */
export const POLICY_USAGE = '(--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer URL [--trusted-root FILE] | --key FILE';

export type PolicyFlagValues = Partial<Record<keyof typeof POLICY_FLAGS, string>>;

/** What a verification trusts and requires, and how the report states it. */
export interface VerifierPolicy {
  trust: Trust;
  policy: Omit<VerificationPolicy, 'predicateTypes'>;
  report: VerificationReport['policy'];
}

const KEYLESS_FLAGS = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'trusted-root'] as const;

/** No trusted root file: the public-good trusted root via TUF, cached in .release/tuf (or the mirror the environment names). */
export function verifierTuf(repoRoot: string, env: Record<string, string | undefined>): TufOptions {
  return { cachePath: join(repoRoot, '.release', 'tuf'), ...tufOptionsFromEnv(env) };
}

/** True when any policy flag was given. */
export function hasPolicyFlags(values: PolicyFlagValues): boolean {
  return Object.keys(POLICY_FLAGS).some((f) => values[f as keyof PolicyFlagValues] !== undefined);
}

/**
 * Builds the policy from the flags. Keyless trust is the `--trusted-root`
 * file, else (unless `offline`) the public-good trusted root through TUF.
 */
export async function policyFromFlags(values: PolicyFlagValues, opts: { usage: string; tuf: TufOptions; offline?: boolean }): Promise<VerifierPolicy> {
  if (values.key !== undefined) {
    const stray = KEYLESS_FLAGS.filter((f) => values[f] !== undefined);
    if (stray.length > 0) throw new ReleaseError('USAGE', `${stray.map((f) => `--${f}`).join(', ')} apply to keyless bundles, not with --key`);
    const publicKey = await loadPublicKey(values.key);
    const fingerprint = keyFingerprint(publicKey);
    return { trust: keyTrust(publicKey), policy: { keyFingerprint: fingerprint }, report: { mode: 'key', keyFingerprint: fingerprint } };
  }
  const identity = values['certificate-identity'];
  const regexp = values['certificate-identity-regexp'];
  const issuer = values['certificate-oidc-issuer'];
  if (identity === undefined && regexp === undefined) throw new ReleaseError('USAGE', `give --certificate-identity or --certificate-identity-regexp\n${opts.usage}`);
  if (issuer === undefined) throw new ReleaseError('USAGE', `give --certificate-oidc-issuer\n${opts.usage}`);
  if (opts.offline && values['trusted-root'] === undefined) {
    throw new ReleaseError('USAGE', `offline verification of keyless bundles needs --trusted-root FILE (the Sigstore trusted root you trust; no TUF here)\n${opts.usage}`);
  }
  const policy = {
    ...(identity !== undefined ? { certificateIdentity: identity } : {}),
    ...(regexp !== undefined ? { certificateIdentityRegexp: regexp } : {}),
    certificateOidcIssuer: issuer,
  };
  identityPattern(policy); // a policy that cannot apply fails before any file is read
  const trustedRoot = values['trusted-root'];
  const trust = trustedRoot ? await loadTrustedRoot(trustedRoot) : await publicGoodTrustedRoot(opts.tuf);
  return { trust, policy, report: { mode: 'keyless', ...policy, trustedRoot: trustedRoot ?? `tuf:${opts.tuf.mirrorUrl ?? PUBLIC_GOOD_TUF_MIRROR}` } };
}

/** What a release manifest says about its signer, read without trusting it. */
export interface ClaimedSigner {
  mode?: string;
  identity?: string;
  issuer?: string;
  keyFingerprint?: string;
  rekorUrl?: string;
}

/**
 * The usage error for a verification without a policy: it prints the signer
 * the release claims and the flags that would pin it, for the user to copy
 * once they have checked that this is who should have signed.
 */
export function missingPolicyError(claimed: ClaimedSigner | undefined, command: string, usage: string): ReleaseError {
  const lines = ['no verification policy given: the verifier, not the release, decides whom to trust.'];
  if (claimed?.mode === 'keyless' && claimed.identity && claimed.issuer) {
    lines.push(
      `The release claims it was signed keylessly by identity ${claimed.identity} (issuer ${claimed.issuer}).`,
      'If that is who should sign it, pin it:',
      `  ${command} --certificate-identity ${claimed.identity} --certificate-oidc-issuer ${claimed.issuer} [--trusted-root FILE]`,
    );
  } else if (claimed?.mode === 'key' && claimed.keyFingerprint) {
    lines.push(
      `The release claims it was signed with the key ${claimed.keyFingerprint} (NOT keyless).`,
      'Get that public key from a source you trust (not from beside the release), check its fingerprint, and pass it:',
      `  ${command} --key FILE`,
    );
  } else {
    lines.push('The release names no signer it could be checked against.');
  }
  return new ReleaseError('USAGE', `${lines.join('\n')}\n${usage}`);
}

/**
 * The policy a release verifies itself with before its page is rendered: the
 * policy of its verify stage (the identity pinned for the release, else the
 * one that signed; or the signing key), with the trust signing used: the
 * signer's, or, when another job signed, the trusted root or public key
 * recorded in the release directory.
 */
export async function releaseOwnPolicy(input: {
  pinned: VerificationPolicy;
  signer?: SignerChoice;
  /** The `--trusted-root` file the release was given, if any. */
  trustedRootFile?: string;
  /** The Rekor the release was logged to (keyless). */
  rekorUrl?: string;
  stateDir: string;
  tuf: TufOptions;
}): Promise<VerifierPolicy> {
  const { pinned, signer, stateDir } = input;
  if (pinned.keyFingerprint) {
    const trust = signer?.trust.mode === 'key' ? signer.trust : keyTrust(await loadPublicKey(join(stateDir, PUBLIC_KEY_FILE)));
    if (trust.mode !== 'key') throw new ReleaseError('INTERNAL', 'key trust expected');
    return { trust, policy: { keyFingerprint: pinned.keyFingerprint }, report: { mode: 'key', keyFingerprint: pinned.keyFingerprint } };
  }
  const { predicateTypes: _types, ...policy } = pinned;
  const recorded = join(stateDir, TRUSTED_ROOT_FILE);
  const trust =
    signer?.trust.mode === 'keyless'
      ? signer.trust
      : input.trustedRootFile
        ? await loadTrustedRoot(input.trustedRootFile)
        : existsSync(recorded)
          ? await loadTrustedRoot(recorded)
          : await publicGoodTrustedRoot(input.tuf);
  // Signed against the public-good instance, its root comes from TUF (for the page's readers too);
  // otherwise the root recorded beside release.json, which the page publishes.
  const viaTuf = !input.trustedRootFile && customSigstoreServices({ ...(input.rekorUrl ? { rekorUrl: input.rekorUrl } : {}) }).length === 0;
  const trustedRoot = viaTuf ? `tuf:${input.tuf.mirrorUrl ?? PUBLIC_GOOD_TUF_MIRROR}` : TRUSTED_ROOT_FILE;
  return { trust, policy, report: { mode: 'keyless', ...policy, trustedRoot } };
}

/** Where the public key of a key-signed release is published, relative to release.json. */
export const PUBLIC_KEY_FILE = 'keys/release.pub';

/** Where a keyless release records the trusted root it was signed against, beside release.json. */
export const TRUSTED_ROOT_FILE = 'trusted_root.json';

/**
 * The policy a page was rendered with (its page.json `policy`: the verifier's
 * earlier choice), for rendering it again. Its key is the one beside
 * release.json only when that key's fingerprint is the recorded one; its
 * trusted root is the recorded one: `trusted_root.json` beside release.json,
 * or the TUF mirror this environment names. Anything else cannot be re-used:
 * the reason is returned for the user.
 */
export async function recordedPolicy(recorded: VerificationReport['policy'] | undefined, opts: { stateDir: string; tuf: TufOptions }): Promise<VerifierPolicy | { reason: string }> {
  if (!recorded) return { reason: 'it records no verification policy' };
  if (recorded.mode === 'key') {
    if (!recorded.keyFingerprint) return { reason: 'its policy names no key fingerprint' };
    const keyFile = join(opts.stateDir, PUBLIC_KEY_FILE);
    if (!existsSync(keyFile)) return { reason: `its key is not beside the release (${keyFile})` };
    const publicKey = await loadPublicKey(keyFile);
    const fingerprint = keyFingerprint(publicKey);
    if (fingerprint !== recorded.keyFingerprint) {
      throw new ReleaseError(
        'VERIFICATION_FAILED',
        `${keyFile} is the key ${fingerprint}, not the key ${recorded.keyFingerprint} the page was verified with; refusing to re-render the page with it. Pass --key FILE with the key you trust`,
      );
    }
    return { trust: keyTrust(publicKey), policy: { keyFingerprint: fingerprint }, report: { mode: 'key', keyFingerprint: fingerprint } };
  }
  const { certificateIdentity, certificateIdentityRegexp, certificateOidcIssuer, trustedRoot } = recorded;
  if ((!certificateIdentity && !certificateIdentityRegexp) || !certificateOidcIssuer) return { reason: 'its policy names no signer identity and issuer' };
  const policy = {
    ...(certificateIdentity ? { certificateIdentity } : {}),
    ...(certificateIdentityRegexp ? { certificateIdentityRegexp } : {}),
    certificateOidcIssuer,
  };
  identityPattern(policy);
  const tufRoot = `tuf:${opts.tuf.mirrorUrl ?? PUBLIC_GOOD_TUF_MIRROR}`;
  let trust: Trust;
  if (trustedRoot === TRUSTED_ROOT_FILE) trust = await loadTrustedRoot(join(opts.stateDir, TRUSTED_ROOT_FILE));
  else if (trustedRoot === tufRoot) trust = await publicGoodTrustedRoot(opts.tuf);
  else return { reason: `its trusted root (${trustedRoot ?? 'none'}) is neither ${TRUSTED_ROOT_FILE} beside the release nor ${tufRoot}` };
  return { trust, policy, report: { mode: 'keyless', ...policy, trustedRoot } };
}
