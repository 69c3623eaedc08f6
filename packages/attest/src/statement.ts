/**
 * in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md):
 * the document every bundle signs. Subjects name an image by repository and
 * manifest digest.
 */
import { COSIGN_SIGN_PREDICATE, CYCLONEDX_BOM, ReleaseError } from '@nixrel/core';
import { IN_TOTO_STATEMENT_V1 } from './constants.js';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Statement<P = unknown> {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** The image an attestation is about: where it lives and its manifest digest. */
export interface ImageSubject {
  /** Repository without tag or digest, e.g. `ghcr.io/acme/postgres` or `oci:.release/oci/postgres`. */
  repository: string;
  /** `sha256:<64 hex>`. */
  digest: string;
}

const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;

/** Hex part of a `sha256:` digest; throws INVALID_INPUT naming the value otherwise. */
export function sha256Hex(digest: string, what = 'digest'): string {
  const m = SHA256_DIGEST.exec(digest);
  if (!m) throw new ReleaseError('INVALID_INPUT', `${what} "${digest}" is not a sha256:<64 hex> digest`);
  return m[1] as string;
}

export function imageResourceDescriptor(image: ImageSubject): ResourceDescriptor {
  return { name: image.repository, digest: { sha256: sha256Hex(image.digest, 'image digest') } };
}

export function makeStatement<P>(image: ImageSubject, predicateType: string, predicate: P): Statement<P> {
  return { _type: IN_TOTO_STATEMENT_V1, subject: [imageResourceDescriptor(image)], predicateType, predicate };
}

/**
 * The statement `cosign sign` writes in its bundle format: the image digest as
 * subject (cosign adds no name) and an empty predicate.
 */
export function imageSignatureStatement(image: ImageSubject): Statement<Record<string, never>> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { sha256: sha256Hex(image.digest, 'image digest') }, annotations: {} }],
    predicateType: COSIGN_SIGN_PREDICATE,
    predicate: {},
  };
}

/** The SBOM attestation: the CycloneDX document itself is the predicate (as `cosign attest --type cyclonedx`). */
export function sbomStatement(image: ImageSubject, bom: unknown): Statement {
  if (typeof bom !== 'object' || bom === null || (bom as { bomFormat?: unknown }).bomFormat !== 'CycloneDX') {
    throw new ReleaseError('INVALID_INPUT', 'SBOM is not a CycloneDX JSON document (bomFormat is not "CycloneDX")');
  }
  return makeStatement(image, CYCLONEDX_BOM, bom);
}

/** Parses and checks the envelope payload of a bundle as an in-toto Statement v1. */
export function parseStatement(payload: Uint8Array | string, what = 'statement'): Statement {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${what} is not JSON: ${(e as Error).message}`);
  }
  const s = value as Partial<Statement>;
  if (s?._type !== IN_TOTO_STATEMENT_V1) {
    throw new ReleaseError('INVALID_INPUT', `${what} is not an in-toto Statement v1 (_type ${JSON.stringify(s?._type)})`);
  }
  if (!Array.isArray(s.subject) || s.subject.length === 0) {
    throw new ReleaseError('INVALID_INPUT', `${what} has no subject`);
  }
  if (typeof s.predicateType !== 'string' || s.predicateType === '') {
    throw new ReleaseError('INVALID_INPUT', `${what} has no predicateType`);
  }
  return s as Statement;
}

/** True when one of the statement's subjects carries this sha256 digest. */
export function statementCoversDigest(statement: Statement, digest: string): boolean {
  const hex = sha256Hex(digest, 'image digest');
  return statement.subject.some((s) => s.digest?.sha256 === hex);
}
