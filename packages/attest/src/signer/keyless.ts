/**
 * Keyless signing with sigstore-js: DSSEBundleBuilder signs the statement with
 * an ephemeral key (FulcioSigner: certificate for the OIDC identity), then
 * Rekor (dsse entry) and the TSA testify. Produces a bundle v0.3.
 */
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { IN_TOTO_PAYLOAD_TYPE, PUBLIC_GOOD } from '../constants.js';
import { freshIdentityToken, type IdentityToken } from '../identity-token.js';
import type { Statement } from '../statement.js';
import type { SignedBundle, Signer } from './types.js';
import { signingError } from './witness-errors.js';

export interface KeylessSignerOptions {
  /** The first token; renewed from its source near expiry (identity-token.ts). */
  identityToken: IdentityToken;
  fulcioUrl?: string;
  rekorUrl?: string;
  /** TSA base URL; `null` signs without an RFC 3161 timestamp (Rekor's time only). */
  tsaUrl?: string | null;
  /** Per request to Fulcio, Rekor and the TSA. */
  timeoutMs?: number;
  /** Retries on 5xx/408/429 and network errors. */
  retries?: number;
}

export function createKeylessSigner(opts: KeylessSignerOptions): Signer {
  const fulcioUrl = opts.fulcioUrl ?? PUBLIC_GOOD.fulcioUrl;
  const rekorUrl = opts.rekorUrl ?? PUBLIC_GOOD.rekorUrl;
  const tsaUrl = opts.tsaUrl === undefined ? PUBLIC_GOOD.tsaUrl : opts.tsaUrl;
  const http = { timeout: opts.timeoutMs ?? 30_000, retry: opts.retries ?? 2 };
  const token = opts.identityToken;
  // Fulcio is asked for a certificate per signature: each request gets a token that is not about to expire.
  const currentToken = freshIdentityToken(token);
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: rekorUrl, entryType: 'dsse', ...http })];
  if (tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: tsaUrl, ...http }));
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: fulcioUrl, identityProvider: { getToken: async () => (await currentToken()).token }, ...http }),
    witnesses,
  });
  return {
    mode: 'keyless',
    label: `keyless (Sigstore: OIDC token from ${token.source}, issuer ${token.issuer}; Fulcio ${fulcioUrl}, Rekor ${rekorUrl}${tsaUrl ? `, TSA ${tsaUrl}` : ''})`,
    async sign(statement: Statement): Promise<SignedBundle> {
      let bundle: ReturnType<typeof bundleToJSON>;
      try {
        bundle = bundleToJSON(await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE }));
      } catch (e) {
        throw signingError(e, { fulcio: fulcioUrl, rekor: rekorUrl, tsa: tsaUrl ?? undefined });
      }
      return { bundle, bytes: Buffer.from(JSON.stringify(bundle)) };
    },
  };
}
