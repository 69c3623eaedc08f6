import { COSIGN_SIGN_PREDICATE, CYCLONEDX_BOM, SLSA_PROVENANCE_V1 } from '@nixrel/core';

/** Names fixed by the formats we speak: in-toto, Sigstore bundles and cosign v3 (predicate types: @nixrel/core). */

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * cosign's `--type` names and the predicate types they stand for
 * (cosign cmd/cosign/cli/options/predicate.go), plus `sign` for the image signature.
 */
export const PREDICATE_TYPE_NAMES: Readonly<Record<string, string>> = {
  sign: COSIGN_SIGN_PREDICATE,
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: SLSA_PROVENANCE_V1,
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: CYCLONEDX_BOM,
  link: 'https://in-toto.io/Link/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

/** Sigstore bundle v0.3: the bundle's own mediaType and the OCI media type cosign v3 stores it under. */
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Older spellings a reader may meet in the wild. */
export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle';

/** Referrer manifest annotations written by cosign v3 (pkg/oci/remote/write.go). */
export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

/** Public-good Sigstore instance, used when no URL is given. */
export const PUBLIC_GOOD = {
  fulcioUrl: 'https://fulcio.sigstore.dev',
  rekorUrl: 'https://rekor.sigstore.dev',
  tsaUrl: 'https://timestamp.sigstore.dev',
} as const;
