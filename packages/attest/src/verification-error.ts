import { ReleaseError } from '@nixrel/core';

/** Why a bundle or an image failed verification: one reason per check, so tests and CI can tell them apart. */
export type VerificationReason =
  | 'BUNDLE_INVALID' // not a Sigstore bundle v0.3 with a DSSE envelope
  | 'PAYLOAD_TYPE_INVALID' // the envelope does not carry an in-toto statement
  | 'STATEMENT_INVALID' // the payload is not an in-toto Statement v1
  | 'SIGNATURE_INVALID' // the envelope signature does not match its payload (tampered)
  | 'CERTIFICATE_UNTRUSTED' // the certificate does not chain to the trusted root (foreign root, expired)
  | 'TLOG_INVALID' // the transparency log entry is missing, forged or for other content
  | 'TIMESTAMP_INVALID' // no trusted timestamp, or one outside the certificate's validity
  | 'IDENTITY_MISMATCH' // certificate SAN is not the expected identity
  | 'ISSUER_MISMATCH' // certificate OIDC issuer is not the expected issuer
  | 'KEY_MISMATCH' // signed with another key than the trusted one
  | 'SIGNER_MODE_MISMATCH' // key-signed where keyless is required, or the reverse
  | 'PREDICATE_TYPE_MISMATCH'
  | 'SUBJECT_MISMATCH' // the statement is about another image (copied attestation)
  | 'ATTESTATION_MISSING' // no bundle of a required predicate type
  | 'POLICY_INVALID'; // the policy itself cannot be applied (no identity, bad regexp)

export class VerificationFailure extends ReleaseError {
  readonly reason: VerificationReason;

  constructor(reason: VerificationReason, message: string, options: { cause?: unknown } = {}) {
    super(reason === 'POLICY_INVALID' ? 'USAGE' : 'VERIFICATION_FAILED', `${reason}: ${message}`, options);
    this.name = 'VerificationFailure';
    this.reason = reason;
  }
}
