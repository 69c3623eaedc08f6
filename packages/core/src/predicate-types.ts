/**
 * The predicate types of the three statements every image carries, as the
 * in-toto statements, cosign's `--type` names, the release manifest and the
 * page spell them. Defined once, here.
 */

/** What `cosign sign` (v3, bundle format) signs for an image: a statement with an empty predicate. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const CYCLONEDX_BOM = 'https://cyclonedx.org/bom';

/** The three statements attached to every image, in the order they are signed. */
export const IMAGE_PREDICATE_TYPES = [COSIGN_SIGN_PREDICATE, SLSA_PROVENANCE_V1, CYCLONEDX_BOM] as const;
