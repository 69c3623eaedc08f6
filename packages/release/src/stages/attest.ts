/**
 * The sign/attest and verify stages for one image. attestImage signs three
 * statements (cosign's image signature, SLSA provenance, the CycloneDX SBOM),
 * verifies each bundle right away, and only when all three verify writes them
 * and attaches them to the image as OCI referrers in cosign v3's layout.
 * verifyImageAttestations finds the bundles again among the image's referrers
 * and checks them against a policy. verifyReleaseBundles does the same from
 * the bundle files a release manifest lists.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import {
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  ANNOTATION_CREATED,
  BUNDLE_MEDIA_TYPE_PREFIX,
  BUNDLE_V03_MEDIA_TYPE,
  certificateIdentity,
  customSigstoreServices,
  IMAGE_PREDICATE_TYPES,
  type ImageVerification,
  imageSignatureStatement,
  keyTrust,
  loadPublicKey,
  parseStatement,
  publicGoodTrustedRoot,
  type Signer,
  SLSA_PROVENANCE_V1,
  type Statement,
  sbomStatement,
  statementCoversDigest,
  type Trust,
  type TufOptions,
  VerificationFailure,
  verifyBundle,
  verifyImage,
} from '@nixrel/attest';
import {
  type AttestationRecord,
  type Logger,
  ReleaseError,
  type ReleaseManifest,
  readJsonFile,
  sha256Digest,
  silentLogger,
  type VerificationPolicy,
  type VerificationRecord,
  writeFileAtomic,
} from '@nixrel/core';
import { attachReferrer, fetchReferrerLayer, listReferrers, parseImageRef, type RegistryOptions, resolveImage } from '@nixrel/oci';

/** File name stem of each bundle, by predicate type. */
const BUNDLE_FILE: Record<string, string> = {
  'https://sigstore.dev/cosign/sign/v1': 'signature',
  'https://slsa.dev/provenance/v1': 'provenance',
  'https://cyclonedx.org/bom': 'sbom',
};

export interface AttestImageOptions {
  /** `<host:port>/<repo>@sha256:…` or `oci:<dir>@sha256:…`. */
  image: string;
  /** CycloneDX JSON file. */
  sbomPath: string;
  /** SLSA v1 provenance statement file (as buildProvenance wrote it); without it no provenance is attested. */
  provenancePath?: string;
  signer: Signer;
  /** What the fresh bundles are verified against (the signing deployment's trusted root, or the signing key). */
  trust: Trust;
  /** For keyless: the OIDC issuer of the token (the certificate must carry it). */
  expectedIssuer?: string;
  /** For keyless: the identity the certificate must carry; by default the one Fulcio put in the first certificate. */
  expectedIdentity?: string;
  /** Where the bundle files go. */
  bundleDir: string;
  /** Bundle paths in the records are relative to this directory (the release directory). */
  recordsRelativeTo: string;
  registry?: RegistryOptions;
  logger?: Logger;
  /** Time for the referrer manifests' `org.opencontainers.image.created`. */
  now?: Date;
}

interface Signed {
  predicateType: string;
  bytes: Uint8Array;
  verified: ReturnType<typeof verifyBundle>;
}

async function readStatementFile(path: string, what: string): Promise<Statement> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseStatement(text, `${what} ${path}`);
}

export async function attestImage(opts: AttestImageOptions): Promise<AttestationRecord[]> {
  const logger = opts.logger ?? silentLogger;
  const ref = parseImageRef(opts.image);
  if (!ref.digest) throw new ReleaseError('INVALID_INPUT', `image reference "${opts.image}" must name a digest (…@sha256:<hex>)`);
  const image = { repository: ref.name, digest: ref.digest };

  // Everything is read and checked before anything is signed.
  const bom = await readJsonFile(opts.sbomPath, 'SBOM');
  const statements: Statement[] = [imageSignatureStatement(image)];
  if (opts.provenancePath) {
    const provenance = await readStatementFile(opts.provenancePath, 'provenance');
    if (provenance.predicateType !== SLSA_PROVENANCE_V1) {
      throw new ReleaseError('INVALID_INPUT', `provenance ${opts.provenancePath} has predicate type ${provenance.predicateType}, expected ${SLSA_PROVENANCE_V1}`);
    }
    if (!statementCoversDigest(provenance, image.digest)) {
      throw new ReleaseError('INVALID_INPUT', `provenance ${opts.provenancePath} is not about ${image.digest}`);
    }
    statements.push(provenance);
  } else {
    logger.warn(`${opts.image}: no provenance given; attesting the signature and the SBOM only`);
  }
  statements.push(sbomStatement(image, bom));
  const resolved = await resolveImage(opts.image, opts.registry);
  if (resolved.digest !== image.digest) {
    throw new ReleaseError('DIGEST_MISMATCH', `${opts.image} resolved to ${resolved.digest}`);
  }

  // Sign and verify all; a bundle that does not verify is never attached.
  const signed: Signed[] = [];
  let identity = opts.expectedIdentity;
  for (const statement of statements) {
    logger.info(`${ref.name}: signing ${statement.predicateType} with ${opts.signer.mode} signer`);
    const { bytes } = await opts.signer.sign(statement);
    identity ??= opts.trust.mode === 'keyless' ? certificateIdentity(bytes) : undefined;
    try {
      const verified = verifyBundle(bytes, {
        trust: opts.trust,
        policy:
          opts.trust.mode === 'keyless'
            ? { certificateIdentity: identity ?? '', certificateOidcIssuer: opts.expectedIssuer ?? '' }
            : { keyFingerprint: opts.trust.fingerprint },
        imageDigest: image.digest,
        predicateType: statement.predicateType,
      });
      signed.push({ predicateType: statement.predicateType, bytes, verified });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new ReleaseError('VERIFICATION_FAILED', `${statement.predicateType} bundle for ${opts.image} failed verification right after signing (nothing attached): ${message}`, { cause: e });
    }
  }

  const created = (opts.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const records: AttestationRecord[] = [];
  for (const s of signed) {
    const path = join(opts.bundleDir, `${BUNDLE_FILE[s.predicateType] ?? 'attestation'}.sigstore.json`);
    await writeFileAtomic(path, s.bytes);
    const referrer = await attachReferrer(
      opts.image,
      {
        artifactType: BUNDLE_V03_MEDIA_TYPE,
        layerMediaType: BUNDLE_V03_MEDIA_TYPE,
        data: s.bytes,
        annotations: {
          [ANNOTATION_BUNDLE_CONTENT]: 'dsse-envelope',
          [ANNOTATION_BUNDLE_PREDICATE_TYPE]: s.predicateType,
          [ANNOTATION_CREATED]: created,
        },
      },
      opts.registry,
    );
    const v = s.verified;
    records.push({
      predicateType: s.predicateType,
      bundlePath: relative(opts.recordsRelativeTo, path),
      bundleDigest: sha256Digest(s.bytes),
      referrerDigest: referrer.digest,
      signerMode: v.signerMode,
      ...(v.identity ? { signerIdentity: v.identity } : {}),
      ...(v.issuer ? { issuer: v.issuer } : {}),
      ...(v.keyFingerprint ? { keyFingerprint: v.keyFingerprint } : {}),
      ...(v.rekorLogIndex !== undefined ? { rekorLogIndex: v.rekorLogIndex } : {}),
      ...(v.rekorUrl ? { rekorUrl: v.rekorUrl } : {}),
      ...(v.signedAt ? { signedAt: v.signedAt } : {}),
    });
    logger.info(`${ref.name}: attached ${s.predicateType} as referrer ${referrer.digest}`);
  }
  return records;
}

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
