/**
 * Which signer a release or an attest command uses. Keyless when an OIDC token
 * is available (--identity-token, --identity-token-file, SIGSTORE_ID_TOKEN,
 * GitHub Actions) or with `--signer keyless`; otherwise (or with `--signer key`
 * / `--key FILE`) the local key in .release/keys/, labelled NOT keyless.
 * Keyless trust: --trusted-root FILE, else the public-good trusted root via
 * TUF (a custom --fulcio-url/--rekor-url/--tsa-url needs the file).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  createKeylessSigner,
  createKeySigner,
  customSigstoreServices,
  findIdentityToken,
  type IdentityToken,
  keyTrust,
  loadOrCreateSigningKey,
  loadSigningKey,
  loadTrustedRoot,
  PUBLIC_GOOD,
  publicGoodTrustedRoot,
  type Signer,
  type Trust,
  trustedRootJson,
  tufOptionsFromEnv,
} from '@nixrel/attest';
import { type Logger, ReleaseError } from '@nixrel/core';
import type { ReleaseContext } from './release-context.js';

/** The signer flags of every command that signs (cosign-like names). */
export const SIGNER_FLAGS = {
  signer: { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'tsa-url': { type: 'string' },
  'trusted-root': { type: 'string' },
  'identity-token': { type: 'string' },
  'identity-token-file': { type: 'string' },
  key: { type: 'string' },
} as const;

export interface SignerChoice {
  signer: Signer;
  trust: Trust;
  token?: IdentityToken;
  /** For key signing: where the public key is (to publish with the release). */
  publicKeyPath?: string;
  /**
   * For keyless signing: the trusted root the bundles were verified against
   * right after signing (the `--trusted-root` file as given, or the one TUF
   * gave), recorded with the release for its audit pack.
   */
  trustedRootJson?: string;
}

export interface SignerOptions {
  signer?: string;
  key?: string;
  keyDir: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  trustedRoot?: string;
  identityToken?: string;
  identityTokenFile?: string;
  timeoutMs?: number;
  env: Record<string, string | undefined>;
}

/** Picks and builds the signer. */
export async function chooseSigner(opts: SignerOptions, log: Logger): Promise<SignerChoice> {
  if (opts.signer !== undefined && opts.signer !== 'keyless' && opts.signer !== 'key') {
    throw new ReleaseError('USAGE', `--signer must be "keyless" or "key", not "${opts.signer}"`);
  }
  const wantKey = opts.signer === 'key' || (opts.signer === undefined && opts.key !== undefined);
  if (opts.signer === 'keyless' && opts.key !== undefined) throw new ReleaseError('USAGE', '--key cannot be used with --signer keyless');
  const token = wantKey
    ? undefined
    : await findIdentityToken({ token: opts.identityToken, tokenFile: opts.identityTokenFile, env: opts.env, timeoutMs: opts.timeoutMs });
  if (opts.signer === 'keyless' && !token) {
    throw new ReleaseError(
      'IDENTITY_TOKEN_ERROR',
      'keyless signing needs an OIDC token: --identity-token, --identity-token-file, SIGSTORE_ID_TOKEN, or a GitHub Actions job with "id-token: write"',
    );
  }
  if (token) {
    const custom = customSigstoreServices(opts);
    if (!opts.trustedRoot && custom.length > 0) {
      throw new ReleaseError(
        'USAGE',
        `keyless signing against ${custom.join(', ')} (not the public-good Sigstore instance) verifies each bundle right after signing: pass --trusted-root FILE (the trusted root of the Fulcio/Rekor/TSA used)`,
      );
    }
    // Without a file, the public-good trusted root via TUF, cached beside the signing keys (.release/tuf).
    const trust = opts.trustedRoot
      ? await loadTrustedRoot(opts.trustedRoot)
      : await publicGoodTrustedRoot({ cachePath: join(dirname(opts.keyDir), 'tuf'), ...tufOptionsFromEnv(opts.env), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
    const rootJson = opts.trustedRoot
      ? await readFile(opts.trustedRoot, 'utf8')
      : trust.mode === 'keyless'
        ? trustedRootJson(trust)
        : undefined;
    const signer = createKeylessSigner({
      identityToken: token,
      fulcioUrl: opts.fulcioUrl ?? PUBLIC_GOOD.fulcioUrl,
      rekorUrl: opts.rekorUrl ?? PUBLIC_GOOD.rekorUrl,
      tsaUrl: opts.tsaUrl ?? PUBLIC_GOOD.tsaUrl,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return { signer, trust, token, ...(rootJson ? { trustedRootJson: rootJson } : {}) };
  }
  const key = opts.key ? await loadSigningKey(opts.key) : await loadOrCreateSigningKey(opts.keyDir);
  if (key.created) log.info(`created signing key ${key.path} (${key.fingerprint})`);
  if (opts.signer === undefined) log.warn('no OIDC token available: signing with the local key (NOT keyless)');
  return { signer: createKeySigner(key), trust: keyTrust(key.publicKey), ...(key.publicKeyPath ? { publicKeyPath: key.publicKeyPath } : {}) };
}

/** The signer of a release: its flags, with the local key (when one is used) in `.release/keys/`. */
export async function releaseSigner(ctx: ReleaseContext): Promise<SignerChoice> {
  return chooseSigner({ ...ctx.opts.signer, keyDir: join(ctx.stateRoot, 'keys'), env: ctx.opts.env }, ctx.opts.logger);
}
