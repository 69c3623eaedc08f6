/**
 * The verify stage: what the registry serves for an image is verified as an
 * auditor would. verifyImageAttestations finds the bundles among the image's
 * referrers and checks them against a policy; verifyReleaseBundles does the
 * same from the bundle files a release manifest lists.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  BUNDLE_MEDIA_TYPE_PREFIX,
  customSigstoreServices,
  type ImageVerification,
  keyTrust,
  loadPublicKey,
  publicGoodTrustedRoot,
  type Trust,
  type TufOptions,
  VerificationFailure,
  verifyImage,
} from '@nixrel/attest';
import {
  IMAGE_PREDICATE_TYPES,
  type ImageRecord,
  ReleaseError,
  type ReleaseManifest,
  readJsonFile,
  sha256Digest,
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

/** The policy a release manifest's signer fields imply, and the trust it needs. */
export async function manifestPolicy(
  manifest: ReleaseManifest,
  manifestDir: string,
  trustedRoot: Trust | undefined,
  tuf: TufOptions = {},
): Promise<{ policy: Omit<VerificationPolicy, 'predicateTypes'>; trust: Trust }> {
  const { signer } = manifest;
  if (signer.mode === 'key') {
    if (!signer.publicKeyPath) throw new ReleaseError('INVALID_INPUT', 'release manifest is key-signed but names no signer.publicKeyPath');
    const trust = keyTrust(await loadPublicKey(resolve(manifestDir, signer.publicKeyPath)));
    return { policy: { ...(signer.keyFingerprint ? { keyFingerprint: signer.keyFingerprint } : {}) }, trust };
  }
  // Without a file only the public-good root (via TUF) can be trusted, so a
  // release logged to another Rekor needs its deployment's trusted root.
  const rekorUrls = [signer.rekorUrl, ...manifest.images.flatMap((i) => (i.attestations ?? []).map((a) => a.rekorUrl))];
  const custom = [...new Set(rekorUrls.flatMap((rekorUrl) => customSigstoreServices({ rekorUrl })))];
  if (!trustedRoot && custom.length > 0) {
    throw new ReleaseError('USAGE', `the release is signed keylessly against ${custom.join(', ')}, not the public-good Sigstore instance: pass --trusted-root FILE (the Sigstore trusted root it was signed against)`);
  }
  if (!signer.identity || !signer.issuer) {
    throw new VerificationFailure('POLICY_INVALID', 'release manifest is keyless but lacks signer.identity or signer.issuer');
  }
  const trust = trustedRoot ?? (await publicGoodTrustedRoot(tuf));
  return { policy: { certificateIdentity: signer.identity, certificateOidcIssuer: signer.issuer }, trust };
}

/**
 * Verifies every image of a release from the bundle files the manifest lists
 * (paths relative to the manifest); each file must still have the digest
 * recorded for it.
 */
export async function verifyReleaseBundles(manifestPath: string, trustedRoot: Trust | undefined, tuf: TufOptions = {}): Promise<ImageVerificationResult[]> {
  const manifest = await readJsonFile<ReleaseManifest>(manifestPath, 'release manifest');
  if (manifest?.schemaVersion !== 1 || !Array.isArray(manifest.images)) {
    throw new ReleaseError('INVALID_INPUT', `${manifestPath} is not a release manifest (schemaVersion 1 with images)`);
  }
  const dir = dirname(manifestPath);
  const { policy, trust } = await manifestPolicy(manifest, dir, trustedRoot, tuf);
  const results: ImageVerificationResult[] = [];
  for (const image of manifest.images) {
    const name = `${image.repository ?? image.name}@${image.digest ?? '?'}`;
    if (!image.digest) throw new ReleaseError('INVALID_INPUT', `release manifest image ${image.name} has no digest`);
    const bundles = [];
    const missingFiles: string[] = [];
    for (const a of image.attestations ?? []) {
      const path = resolve(dir, a.bundlePath);
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch {
        missingFiles.push(`${a.predicateType}: bundle file ${a.bundlePath} is missing`);
        continue;
      }
      if (sha256Digest(data) !== a.bundleDigest) {
        missingFiles.push(`${a.predicateType}: bundle file ${a.bundlePath} has digest ${sha256Digest(data)}, the manifest records ${a.bundleDigest}`);
        continue;
      }
      bundles.push({ source: a.bundlePath, data });
    }
    const predicateTypes = [...new Set([...IMAGE_PREDICATE_TYPES, ...(image.attestations ?? []).map((a) => a.predicateType)])];
    const fullPolicy: VerificationPolicy = { ...policy, predicateTypes };
    const details = verifyImage({ imageDigest: image.digest, bundles, predicateTypes, trust, policy });
    const record = toRecord(details, fullPolicy);
    if (missingFiles.length > 0) {
      record.ok = false;
      record.failures.unshift(...missingFiles);
    }
    results.push({ image: name, record, details: { ...details, ok: record.ok } });
  }
  return results;
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
