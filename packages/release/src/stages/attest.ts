/**
 * The sign/attest stage for one image. attestImage signs three statements
 * (cosign's image signature, SLSA provenance, the CycloneDX SBOM), verifies
 * each bundle right away, and only when all three verify writes them and
 * attaches them to the image as OCI referrers in cosign v3's layout.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  ANNOTATION_BUNDLE_CONTENT,
  ANNOTATION_BUNDLE_PREDICATE_TYPE,
  ANNOTATION_CREATED,
  BUNDLE_V03_MEDIA_TYPE,
  certificateIdentity,
  imageSignatureStatement,
  parseStatement,
  type Signer,
  type Statement,
  sbomStatement,
  statementCoversDigest,
  type Trust,
  verifyBundle,
} from '@nixrel/attest';
import {
  type AttestationRecord,
  COSIGN_SIGN_PREDICATE,
  CYCLONEDX_BOM,
  type Logger,
  ReleaseError,
  readJsonFile,
  SLSA_PROVENANCE_V1,
  sha256Digest,
  silentLogger,
  writeFileAtomic,
} from '@nixrel/core';
import { attachReferrer, parseImageRef, type RegistryOptions, resolveImage } from '@nixrel/oci';
import { imageRepository } from '../release-context.js';
import type { SignerChoice } from '../signer.js';
import { ReleaseState } from '../state.js';
import { TRUSTED_ROOT_FILE } from '../verifier-policy.js';
import { assertReadyForAttestation } from './provenance.js';
import type { Stage } from './stage.js';

/** File name stem of each bundle, by predicate type. */
const BUNDLE_FILE: Record<string, string> = {
  [COSIGN_SIGN_PREDICATE]: 'signature',
  [SLSA_PROVENANCE_V1]: 'provenance',
  [CYCLONEDX_BOM]: 'sbom',
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


export const attestStage: Stage<SignerChoice> = {
  name: 'attest',
  inputs(ctx, record, signer) {
    assertReadyForAttestation(ctx, record);
    return {
      digest: record.digest,
      repository: imageRepository(ctx.registry, record.name),
      provenance: record.provenance?.digest,
      sbom: record.sbom.digest,
      signer: signer.signer.label,
    };
  },
  outputsPresent: (ctx, record) =>
    record.attestations.length > 0 &&
    record.attestations.every((a) => existsSync(join(ctx.state.dir, a.bundlePath))) &&
    (record.attestations[0]?.signerMode !== 'keyless' || existsSync(join(ctx.state.dir, TRUSTED_ROOT_FILE))),
  async run(ctx, record, signer) {
    assertReadyForAttestation(ctx, record);
    const { opts, state } = ctx;
    record.attestations = await attestImage({
      image: `${imageRepository(ctx.registry, record.name)}@${record.digest}`,
      sbomPath: join(state.dir, record.sbom.path),
      provenancePath: join(state.dir, ReleaseState.provenanceFile(record.name)),
      signer: signer.signer,
      trust: signer.trust,
      ...(signer.token ? { expectedIssuer: signer.token.issuer } : {}),
      ...(opts.policy?.certificateIdentity ? { expectedIdentity: opts.policy.certificateIdentity } : {}),
      bundleDir: join(state.dir, ReleaseState.bundleDir(record.name)),
      recordsRelativeTo: state.dir,
      registry: ctx.registryOptions,
      logger: opts.logger,
      now: new Date(ctx.source.commitTime * 1000),
    });
    // What the bundles were verified against, kept for the audit pack (and the page's own verification).
    if (signer.trustedRootJson) await writeFileAtomic(join(state.dir, TRUSTED_ROOT_FILE), signer.trustedRootJson);
    // New bundles: the verification of the old ones no longer holds.
    record.verification = undefined;
  },
};
