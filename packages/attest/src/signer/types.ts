import type { SignerMode } from '@nixrel/core';
import type { SerializedBundle } from '@sigstore/bundle';
import type { Statement } from '../statement.js';

/** A signed statement: the Sigstore bundle v0.3 (DSSE envelope) and its exact bytes. */
export interface SignedBundle {
  bundle: SerializedBundle;
  /** Serialised bundle, as written to disk and attached to the image. */
  bytes: Uint8Array;
}

/**
 * One seam for both ways of signing. `keyless`: an ephemeral key certified by
 * Fulcio for an OIDC identity, witnessed by Rekor and a TSA. `key`: a
 * long-lived local key, no certificate, no transparency log; NOT keyless.
 */
export interface Signer {
  readonly mode: SignerMode;
  /** One line saying who signs, for output (never contains secrets). */
  readonly label: string;
  sign(statement: Statement): Promise<SignedBundle>;
}
