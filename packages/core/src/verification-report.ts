/**
 * What a verifier found when it checked a release against a policy the
 * verifier chose. The page renders from this (never from the release's own
 * `verification` fields), so it can only say "verified" for what passed.
 */
export type CheckStatus = 'passed' | 'failed' | 'not-checked';

export interface VerificationCheck {
  /** Stable id, e.g. `signature`, `sbom-binding`, `provenance-binding`, `blobs`, `referrers`. */
  id: string;
  /** One line a reader understands, e.g. "SBOM file matches the signed SBOM attestation". */
  title: string;
  status: CheckStatus;
  /** Why it failed or was not checked; names the file or digest involved. */
  detail?: string;
}

export interface ImageVerificationReport {
  name: string;
  digest?: string;
  /** True only when every check passed (none failed, none not-checked). */
  ok: boolean;
  checks: VerificationCheck[];
}

export interface VerificationReport {
  /** ISO 8601 time of the check. */
  checkedAt: string;
  /** The policy, as the verifier gave it: what was pinned and by whom. */
  policy: {
    mode: 'keyless' | 'key';
    certificateIdentity?: string;
    certificateIdentityRegexp?: string;
    certificateOidcIssuer?: string;
    /** `sha256:<hex>` of the public key's DER SPKI, for key policies. */
    keyFingerprint?: string;
    /** Where the trusted root came from: a file path, or `tuf:<mirror url>`. */
    trustedRoot?: string;
  };
  /** Checks on release.json itself (schema, claims against the policy). */
  release: VerificationCheck[];
  images: ImageVerificationReport[];
  /** True only when every check of the release and of every image passed. */
  ok: boolean;
}
