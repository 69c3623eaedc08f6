/**
 * The verify stage: what the registry serves for an image is verified as an
 * auditor would. verifyImageAttestations finds the bundles among the image's
 * referrers and checks them against a policy. A whole release, from its
 * manifest and the files it links, is verified by verify-release.ts.
 */
import {
  BUNDLE_MEDIA_TYPE_PREFIX,
  type ImageVerification,
  type Trust,
  verifyImage,
} from '@nixrel/attest';
import {
  IMAGE_PREDICATE_TYPES,
  type ImageRecord,
  ReleaseError,
  type VerificationPolicy,
  type VerificationRecord,
} from '@nixrel/core';
import { fetchReferrerLayer, listReferrers, parseImageRef, type RegistryOptions, resolveImage } from '@nixrel/oci';
import { imageRepository, type ReleaseContext } from '../release-context.js';
import type { SignerChoice } from '../signer.js';
import type { Stage } from './stage.js';

export interface VerifyImageOptions {
  policy: VerificationPolicy;
  trust: Trust;
  registry?: RegistryOptions;
}

export interface ImageVerificationResult {
  image: string;
  record: VerificationRecord;
  details: ImageVerification;
}

function toRecord(details: ImageVerification, policy: VerificationPolicy): VerificationRecord {
  return {
    ok: details.ok,
    checkedAt: new Date().toISOString(),
    policy,
    verified: details.verified.map((v) => v.predicateType),
    failures: details.failures.map((f) => `${f.predicateType}${f.source ? ` (${f.source})` : ''}: ${f.message}`),
  };
}

/** Finds the image's Sigstore bundle referrers (referrers API or fallback index) and verifies them. */
export async function verifyImageAttestations(image: string, opts: VerifyImageOptions): Promise<ImageVerificationResult> {
  const ref = parseImageRef(image);
  const digest = ref.digest ?? (await resolveImage(image, opts.registry)).digest;
  const subject = `${ref.name}@${digest}`;
  const referrers = (await listReferrers(subject, opts.registry)).filter((r) => r.artifactType?.startsWith(BUNDLE_MEDIA_TYPE_PREFIX));
  const bundles = [];
  for (const r of referrers) {
    const layer = await fetchReferrerLayer(subject, r.digest, opts.registry);
    if (!layer.mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX)) continue;
    bundles.push({ source: `referrer ${r.digest}`, data: layer.data });
  }
  const details = verifyImage({ imageDigest: digest, bundles, predicateTypes: opts.policy.predicateTypes, trust: opts.trust, policy: opts.policy });
  return { image: subject, record: toRecord(details, opts.policy), details };
}

/** The policy a release verifies against: the expected identity pinned exactly, or the key. */
export function releasePolicy(ctx: ReleaseContext, record: ImageRecord): VerificationPolicy {
  const first = record.attestations[0];
  if (!first) throw new ReleaseError('VERIFICATION_FAILED', `${record.name}: no attestations to verify`);
  const predicateTypes = [...IMAGE_PREDICATE_TYPES];
  if (first.signerMode === 'key') return { keyFingerprint: first.keyFingerprint!, predicateTypes };
  const p = ctx.opts.policy ?? {};
  return {
    ...(p.certificateIdentityRegexp
      ? { certificateIdentityRegexp: p.certificateIdentityRegexp }
      : { certificateIdentity: p.certificateIdentity ?? first.signerIdentity! }),
    certificateOidcIssuer: p.certificateOidcIssuer ?? first.issuer!,
    predicateTypes,
  };
}

export const verifyStage: Stage<SignerChoice> = {
  name: 'verify',
  recheck: true,
  inputs: (ctx, record) => ({ attestations: record.attestations.map((a) => a.bundleDigest), policy: releasePolicy(ctx, record) }),
  async run(ctx, record, signer, hash) {
    const result = await verifyImageAttestations(`${imageRepository(ctx.registry, record.name)}@${record.digest}`, {
      policy: releasePolicy(ctx, record),
      trust: signer.trust,
      registry: ctx.registryOptions,
    });
    // Verified again with the same outcome: keep the record (and its time) as it was.
    if (result.record.ok && record.verification?.ok && record.stages.verify?.inputHash === hash) return 'unchanged';
    record.verification = result.record;
  },
  check(record) {
    if (!record.verification?.ok) {
      throw new ReleaseError('VERIFICATION_FAILED', `${record.name}: verification failed`, { details: record.verification?.failures ?? [] });
    }
  },
};
