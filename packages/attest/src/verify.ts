/**
 * Verification of attestation bundles against a policy and a trust root.
 * Fails closed: each bundle must carry a DSSE envelope whose signature
 * verifies, whose signer is trusted (certificate chaining to the trusted root
 * with SCT, Rekor entry and timestamp; or the trusted public key), whose
 * identity and issuer match the policy exactly, and whose in-toto statement
 * has the expected predicate type and names the image digest as subject.
 * Every failure raises a VerificationFailure with its own reason.
 */
import { createHash, X509Certificate as NodeX509, verify as verifySignature } from 'node:crypto';
import type { SignerMode, VerificationPolicy } from '@nixrel/core';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { dsse, RFC3161Timestamp } from '@sigstore/core';
import { toSignedEntity, type Signer as VerifiedSigner } from '@sigstore/verify';
import { IN_TOTO_PAYLOAD_TYPE } from './constants.js';
import { identityMatches, identityPattern } from './policy.js';
import { parseStatement, type Statement, statementCoversDigest } from './statement.js';
import { type Trust, verifierFor } from './trust.js';
import { VerificationFailure, type VerificationReason } from './verification-error.js';

export interface VerifiedAttestation {
  predicateType: string;
  statement: Statement;
  signerMode: SignerMode;
  /** Certificate SAN (keyless). */
  identity?: string;
  /** Certificate OIDC issuer (keyless). */
  issuer?: string;
  /** `sha256:<hex>` of the signing public key (key mode). */
  keyFingerprint?: string;
  rekorLogIndex?: number;
  rekorUrl?: string;
  /** The time Rekor or the TSA vouched for, ISO 8601. */
  signedAt?: string;
  /** `sha256:` of the bundle bytes as given. */
  bundleDigest: string;
}

export interface BundleCheck {
  trust: Trust;
  policy: Omit<VerificationPolicy, 'predicateTypes'>;
  /** The image the statement must be about. */
  imageDigest: string;
  predicateType: string;
}

const fail = (reason: VerificationReason, message: string, cause?: unknown): never => {
  throw new VerificationFailure(reason, message, cause === undefined ? {} : { cause });
};

function decodeBundle(data: Uint8Array | unknown): { bundle: Bundle; json: unknown; digest: string } {
  let json: unknown = data;
  let bytes: Buffer;
  if (data instanceof Uint8Array) {
    bytes = Buffer.from(data);
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      fail('BUNDLE_INVALID', `bundle is not JSON: ${(e as Error).message}`);
    }
  } else {
    bytes = Buffer.from(JSON.stringify(data));
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (e) {
    return fail('BUNDLE_INVALID', `not a Sigstore bundle: ${(e as Error).message}`, e);
  }
  if (bundle.content.$case !== 'dsseEnvelope') fail('BUNDLE_INVALID', 'bundle holds a message signature, not a DSSE envelope');
  return { bundle, json, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** The leaf certificate of a keyless bundle, if it is one. */
function leafCertificate(bundle: Bundle): Buffer | undefined {
  const content = bundle.verificationMaterial.content;
  if (content.$case === 'certificate') return Buffer.from(content.certificate.rawBytes);
  if (content.$case === 'x509CertificateChain') {
    const first = content.x509CertificateChain.certificates[0];
    return first ? Buffer.from(first.rawBytes) : undefined;
  }
  return undefined;
}

/** Checked before the full verification so a foreign root reads as such, not as a timestamp error. */
function assertIssuedByTrustedCa(leafDer: Buffer, trust: Extract<Trust, { mode: 'keyless' }>): void {
  const leaf = new NodeX509(leafDer);
  for (const ca of trust.trustedRoot.certificateAuthorities) {
    for (const cert of ca.certChain?.certificates ?? []) {
      const issuer = new NodeX509(Buffer.from(cert.rawBytes));
      if (leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey)) return;
    }
  }
  fail('CERTIFICATE_UNTRUSTED', `signing certificate (issuer "${leaf.issuer.replace(/\n/g, ', ')}") was not issued by a certificate authority of the trusted root`);
}

const REASON_BY_SIGSTORE_CODE: Record<string, VerificationReason> = {
  CERTIFICATE_ERROR: 'CERTIFICATE_UNTRUSTED',
  PUBLIC_KEY_ERROR: 'KEY_MISMATCH',
  SIGNATURE_ERROR: 'SIGNATURE_INVALID',
  TIMESTAMP_ERROR: 'TIMESTAMP_INVALID',
  TLOG_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROOF_ERROR: 'TLOG_INVALID',
  TLOG_INCLUSION_PROMISE_ERROR: 'TLOG_INVALID',
  TLOG_MISSING_INCLUSION_ERROR: 'TLOG_INVALID',
  TLOG_BODY_ERROR: 'TLOG_INVALID',
};

export function verifyBundle(data: Uint8Array | unknown, check: BundleCheck): VerifiedAttestation {
  const { bundle, digest } = decodeBundle(data);
  const envelope = (bundle.content as Extract<Bundle['content'], { $case: 'dsseEnvelope' }>).dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    fail('PAYLOAD_TYPE_INVALID', `envelope payload type is "${envelope.payloadType}", expected ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const signature = envelope.signatures[0];
  if (envelope.signatures.length !== 1 || !signature) fail('BUNDLE_INVALID', `envelope has ${envelope.signatures.length} signatures, expected 1`);
  const pae = dsse.preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload));
  const { trust, policy } = check;
  const leafDer = leafCertificate(bundle);

  // Who signed: the mode must be the one the policy trusts.
  let signingKey: Parameters<typeof verifySignature>[2];
  if (trust.mode === 'keyless') {
    if (!leafDer) fail('SIGNER_MODE_MISMATCH', 'bundle is signed with a key (no certificate); the policy requires keyless signing');
    identityPattern(policy); // a policy that cannot apply fails before any crypto work
    if (!policy.certificateOidcIssuer) fail('POLICY_INVALID', 'keyless verification needs the certificate OIDC issuer');
    assertIssuedByTrustedCa(leafDer!, trust);
    signingKey = new NodeX509(leafDer!).publicKey;
  } else {
    const content = bundle.verificationMaterial.content;
    if (content.$case !== 'publicKey') fail('SIGNER_MODE_MISMATCH', 'bundle is signed keylessly (certificate); the policy trusts a public key');
    const hint = content.$case === 'publicKey' ? content.publicKey.hint : '';
    if (policy.keyFingerprint && policy.keyFingerprint !== trust.fingerprint) {
      fail('KEY_MISMATCH', `the key given has fingerprint ${trust.fingerprint}, the policy expects ${policy.keyFingerprint}`);
    }
    if (hint !== trust.fingerprint) fail('KEY_MISMATCH', `bundle was signed with key ${hint || '(no hint)'}, expected ${trust.fingerprint}`);
    signingKey = trust.publicKey;
  }
  if (!verifySignature('sha256', pae, signingKey, Buffer.from(signature!.sig))) {
    fail('SIGNATURE_INVALID', 'envelope signature does not match its payload (the statement was altered after signing)');
  }

  // Full Sigstore verification: chain, SCT, transparency log, timestamps.
  let signer: VerifiedSigner;
  try {
    signer = verifierFor(trust).verify(toSignedEntity(bundle));
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    return fail(REASON_BY_SIGSTORE_CODE[code] ?? 'SIGNATURE_INVALID', `${code ? `${code}: ` : ''}${(e as Error).message}`, e);
  }

  let identity: string | undefined;
  let issuer: string | undefined;
  if (trust.mode === 'keyless') {
    identity = signer.identity?.subjectAlternativeName;
    issuer = signer.identity?.extensions?.issuer;
    const pattern = identityPattern(policy);
    if (!identityMatches(pattern, identity)) {
      const wanted = policy.certificateIdentity ?? `regexp ${pattern}`;
      fail('IDENTITY_MISMATCH', `certificate identity is "${identity ?? '(none)'}", expected ${wanted}`);
    }
    if (issuer !== policy.certificateOidcIssuer) {
      fail('ISSUER_MISMATCH', `certificate OIDC issuer is "${issuer ?? '(none)'}", expected "${policy.certificateOidcIssuer}"`);
    }
  }

  let statement: Statement;
  try {
    statement = parseStatement(Buffer.from(envelope.payload), 'envelope payload');
  } catch (e) {
    return fail('STATEMENT_INVALID', (e as Error).message, e);
  }
  if (statement.predicateType !== check.predicateType) {
    fail('PREDICATE_TYPE_MISMATCH', `statement predicate type is "${statement.predicateType}", expected "${check.predicateType}"`);
  }
  if (!statementCoversDigest(statement, check.imageDigest)) {
    const subjects = statement.subject.map((s) => `sha256:${s.digest?.sha256 ?? '?'}`).join(', ');
    fail('SUBJECT_MISMATCH', `statement is about ${subjects}, not the image ${check.imageDigest}`);
  }

  const tlog = bundle.verificationMaterial.tlogEntries[0];
  const tsa = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
  const signedAt = tlog
    ? new Date(Number(tlog.integratedTime) * 1000)
    : tsa
      ? RFC3161Timestamp.parse(Buffer.from(tsa.signedTimestamp)).signingTime
      : undefined;
  const rekorUrl = tlog && trust.mode === 'keyless' ? trust.tlogUrls.get(Buffer.from(tlog.logId.keyId).toString('base64')) : undefined;
  return {
    predicateType: statement.predicateType,
    statement,
    signerMode: trust.mode,
    ...(identity ? { identity } : {}),
    ...(issuer ? { issuer } : {}),
    ...(trust.mode === 'key' ? { keyFingerprint: trust.fingerprint } : {}),
    ...(tlog ? { rekorLogIndex: Number(tlog.logIndex) } : {}),
    ...(rekorUrl ? { rekorUrl } : {}),
    ...(signedAt ? { signedAt: signedAt.toISOString() } : {}),
    bundleDigest: digest,
  };
}

/** Predicate type a bundle claims, read without verifying (to pick candidates); undefined if unreadable. */
export function claimedPredicateType(data: Uint8Array | unknown): string | undefined {
  try {
    const json = data instanceof Uint8Array ? JSON.parse(Buffer.from(data).toString('utf8')) : data;
    const payload = (json as { dsseEnvelope?: { payload?: string } }).dsseEnvelope?.payload;
    if (typeof payload !== 'string') return undefined;
    const type = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')).predicateType;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

export interface AttestationCandidate {
  /** Where the bundle came from (referrer digest or file), for messages. */
  source: string;
  data: Uint8Array | unknown;
}

export interface AttestationFailure {
  predicateType: string;
  source?: string;
  reason: VerificationReason;
  message: string;
}

export interface ImageVerification {
  ok: boolean;
  imageDigest: string;
  verified: (VerifiedAttestation & { source: string })[];
  failures: AttestationFailure[];
}

/**
 * Every required predicate type needs one bundle that verifies completely.
 * Bundles of other types are ignored; a type with no bundle fails as
 * ATTESTATION_MISSING; a type whose bundles all fail reports each failure.
 */
export function verifyImage(input: {
  imageDigest: string;
  bundles: AttestationCandidate[];
  predicateTypes: string[];
  trust: Trust;
  policy: Omit<VerificationPolicy, 'predicateTypes'>;
}): ImageVerification {
  const verified: ImageVerification['verified'] = [];
  const failures: AttestationFailure[] = [];
  const claimed = input.bundles.map((b) => ({ ...b, type: claimedPredicateType(b.data) }));
  for (const predicateType of input.predicateTypes) {
    const candidates = claimed.filter((b) => b.type === predicateType);
    if (candidates.length === 0) {
      failures.push({ predicateType, reason: 'ATTESTATION_MISSING', message: `ATTESTATION_MISSING: no ${predicateType} attestation for ${input.imageDigest}` });
      continue;
    }
    const attempts: AttestationFailure[] = [];
    for (const candidate of candidates) {
      try {
        verified.push({
          ...verifyBundle(candidate.data, { trust: input.trust, policy: input.policy, imageDigest: input.imageDigest, predicateType }),
          source: candidate.source,
        });
        attempts.length = 0;
        break;
      } catch (e) {
        if (!(e instanceof VerificationFailure) || e.reason === 'POLICY_INVALID') throw e;
        attempts.push({ predicateType, source: candidate.source, reason: e.reason, message: e.message });
      }
    }
    failures.push(...attempts);
  }
  return { ok: failures.length === 0, imageDigest: input.imageDigest, verified, failures };
}

/**
 * The SAN of a keyless bundle's certificate, read without verifying: what to
 * pin when checking a bundle just signed (Fulcio chose it from the token).
 */
export function certificateIdentity(data: Uint8Array | unknown): string | undefined {
  const leaf = leafCertificate(decodeBundle(data).bundle);
  const san = leaf ? new NodeX509(leaf).subjectAltName : undefined;
  return san?.split(', ')[0]?.replace(/^(URI|email):/, '');
}
