/**
 * What verification trusts: a Sigstore TrustedRoot (Fulcio CAs, Rekor and CT
 * logs, TSAs) for keyless bundles, or one public key for key-signed bundles.
 * @sigstore/verify is used directly with toTrustMaterial: the `sigstore`
 * package's verify always resolves the root through TUF, which a custom or
 * offline deployment does not have. The public-good root comes from TUF
 * (tuf.ts) only when no trusted root file is given.
 */
import type { KeyObject } from 'node:crypto';
import { ReleaseError, readJsonFile } from '@nixrel/core';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier } from '@sigstore/verify';
import { keyFingerprint } from './signer/key.js';

export type Trust =
  | { mode: 'keyless'; trustedRoot: TrustedRoot; /** tlog base URLs by log id (base64), for records. */ tlogUrls: Map<string, string> }
  | { mode: 'key'; publicKey: KeyObject; fingerprint: string };

export function keylessTrust(trustedRootJson: unknown, source = 'trusted root'): Trust {
  let trustedRoot: TrustedRoot;
  try {
    trustedRoot = TrustedRoot.fromJSON(trustedRootJson);
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${source} is not a Sigstore TrustedRoot: ${(e as Error).message}`);
  }
  return trustFromRoot(trustedRoot, source);
}

/** Keyless trust from a parsed TrustedRoot (a file, or TUF: see tuf.ts). */
export function trustFromRoot(trustedRoot: TrustedRoot, source: string): Trust {
  if (trustedRoot.certificateAuthorities.length === 0 || trustedRoot.tlogs.length === 0) {
    throw new ReleaseError('INVALID_INPUT', `${source} lists no certificate authority or no transparency log`);
  }
  const tlogUrls = new Map(trustedRoot.tlogs.map((t) => [Buffer.from(t.logId?.keyId ?? []).toString('base64'), t.baseUrl]));
  return { mode: 'keyless', trustedRoot, tlogUrls };
}

/** The trusted root of keyless trust as trusted_root.json holds it (to record what a release was signed against). */
export function trustedRootJson(trust: Extract<Trust, { mode: 'keyless' }>): string {
  return `${JSON.stringify(TrustedRoot.toJSON(trust.trustedRoot), null, 2)}\n`;
}

export async function loadTrustedRoot(path: string): Promise<Trust> {
  return keylessTrust(await readJsonFile(path, 'trusted root'), `trusted root ${path}`);
}

export function keyTrust(publicKey: KeyObject): Trust {
  return { mode: 'key', publicKey, fingerprint: keyFingerprint(publicKey) };
}

const EMPTY_ROOT = TrustedRoot.fromJSON({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});

/**
 * Keyless: a certificate from the root's CA, a CT log SCT, a Rekor entry and
 * a timestamp are all required. Key: the one public key; no log is required,
 * and any log entry a bundle does carry must still verify (none is trusted).
 */
export function verifierFor(trust: Trust): Verifier {
  if (trust.mode === 'keyless') {
    return new Verifier(toTrustMaterial(trust.trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  }
  const der = trust.publicKey.export({ format: 'der', type: 'spki' });
  const keys = { [trust.fingerprint]: { rawBytes: der, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: undefined } };
  return new Verifier(toTrustMaterial(EMPTY_ROOT, keys), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
}
