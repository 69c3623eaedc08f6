/**
 * verifyRelease: checks a whole release against the verifier's policy and
 * returns a VerificationReport (packages/core), the one thing `verify
 * --manifest`, `verify --pack` and the page are built from.
 *
 * Nothing in the release is believed about itself. release.json is checked
 * against its JSON Schema and its signer claims against the policy; every
 * image's three bundles must verify under the policy and name the image
 * digest; every file the manifest links is bound to a signed statement (the
 * SBOM file is the signed SBOM predicate, the provenance file is the signed
 * statement, the SBOM digest in the signed provenance is the SBOM file's) and
 * the manifest's claims (collection, version, source, signer records) must
 * agree with what was signed. When the registry or OCI layout is reachable,
 * the image's blobs must hash to their digests and the bundles must be
 * attached as referrers; otherwise those checks say "not checked" and why.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import {
  BUNDLE_MEDIA_TYPE_PREFIX,
  identityMatches,
  identityPattern,
  type Statement,
  type VerifiedAttestation,
  verifyImage,
} from '@nixrel/attest';
import {
  type AttestationRecord,
  assessSlsaLevel,
  type CheckStatus,
  COSIGN_SIGN_PREDICATE,
  CYCLONEDX_BOM,
  IMAGE_PREDICATE_TYPES,
  type ImageRecord,
  type ImageVerificationReport,
  manifestSchemaErrors,
  ReleaseError,
  type ReleaseManifest,
  SLSA_PROVENANCE_V1,
  sha256Digest,
  toReleaseError,
  type VerificationCheck,
  type VerificationReport,
} from '@nixrel/core';
import { checkImageBlobs, describeBlobProblems, fetchReferrerLayer, listReferrers, parseImageRef, type RegistryOptions } from '@nixrel/oci';
import type { VerifierPolicy } from './verifier-policy.js';

export interface VerifyReleaseOptions {
  manifestPath: string;
  verifier: VerifierPolicy;
  /** Registry access for the blob and referrer checks; `false` when verifying offline (an audit pack). */
  registry: RegistryOptions | false;
  /** Why the registry checks are skipped when `registry` is false. */
  offlineReason?: string;
  now?: Date;
}

/** Largest linked file read (SBOMs of large closures are a few MiB). */
const MAX_LINKED_FILE = 256 << 20;

const ATTESTATION_CHECKS: Record<string, { id: string; title: string }> = {
  [COSIGN_SIGN_PREDICATE]: { id: 'signature', title: 'Image signature verifies against the policy' },
  [SLSA_PROVENANCE_V1]: { id: 'provenance-attestation', title: 'SLSA provenance attestation verifies against the policy' },
  [CYCLONEDX_BOM]: { id: 'sbom-attestation', title: 'SBOM attestation verifies against the policy' },
};

function check(id: string, title: string, status: CheckStatus, detail?: string): VerificationCheck {
  return { id, title, status, ...(detail ? { detail } : {}) };
}

/** JSON with sorted keys: two documents are the same statement whatever their key order or spacing. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A file the manifest links, read only from inside the manifest's directory. */
async function readLinked(baseDir: string, path: unknown): Promise<{ bytes: Buffer } | { problem: string }> {
  if (typeof path !== 'string' || path === '' || isAbsolute(path) || path.includes('\\') || normalize(path).split(sep).includes('..')) {
    return { problem: `path ${JSON.stringify(path)} is not a file inside the release directory` };
  }
  try {
    const full = resolve(baseDir, path);
    if ((await stat(full)).size > MAX_LINKED_FILE) return { problem: `${path} is larger than ${MAX_LINKED_FILE} bytes` };
    return { bytes: await readFile(full) };
  } catch (e) {
    return { problem: `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** release.json's signer claims against the verifier's policy: any difference names both. */
function signerClaimsCheck(manifest: Partial<ReleaseManifest>, verifier: VerifierPolicy): VerificationCheck {
  const title = "release.json's signer claims match the verifier's policy";
  const signer = manifest.signer;
  const { policy } = verifier;
  if (!signer) return check('signer-claims', title, 'failed', 'release.json names no signer');
  if (signer.mode !== verifier.report.mode) {
    return check('signer-claims', title, 'failed', `release.json claims ${signer.mode ?? 'no'} signing; the policy requires ${verifier.report.mode} signing`);
  }
  if (verifier.report.mode === 'key') {
    return signer.keyFingerprint === policy.keyFingerprint
      ? check('signer-claims', title, 'passed')
      : check('signer-claims', title, 'failed', `release.json claims key ${signer.keyFingerprint ?? '(none)'}; the policy trusts key ${policy.keyFingerprint}`);
  }
  const problems: string[] = [];
  const wanted = policy.certificateIdentity ?? `regexp ${policy.certificateIdentityRegexp}`;
  if (!identityMatches(identityPattern(policy), signer.identity)) problems.push(`release.json claims identity ${signer.identity ?? '(none)'}; the policy requires ${wanted}`);
  if (signer.issuer !== policy.certificateOidcIssuer) problems.push(`release.json claims issuer ${signer.issuer ?? '(none)'}; the policy requires ${policy.certificateOidcIssuer}`);
  return problems.length ? check('signer-claims', title, 'failed', problems.join('; ')) : check('signer-claims', title, 'passed');
}

interface ImageContext {
  image: ImageRecord;
  baseDir: string;
  manifest: Partial<ReleaseManifest>;
  verifier: VerifierPolicy;
}

/** The signed statement of a predicate type, when its bundle verified. */
type Verified = Map<string, VerifiedAttestation & { source: string }>;

async function attestationChecks(ctx: ImageContext, digest: string): Promise<{ checks: VerificationCheck[]; verified: Verified }> {
  const { image, baseDir, verifier } = ctx;
  const checks: VerificationCheck[] = [];
  const fileProblems: string[] = [];
  const bundles: { source: string; data: Buffer }[] = [];
  const records = Array.isArray(image.attestations) ? image.attestations : [];
  for (const a of records) {
    const read = await readLinked(baseDir, a.bundlePath);
    if ('problem' in read) fileProblems.push(`bundle ${read.problem}`);
    else if (sha256Digest(read.bytes) !== a.bundleDigest) fileProblems.push(`bundle ${a.bundlePath} has digest ${sha256Digest(read.bytes)}, release.json records ${a.bundleDigest}`);
    else bundles.push({ source: a.bundlePath, data: read.bytes });
  }
  checks.push(
    check('bundle-files', 'Bundle files are present with the digests release.json records', fileProblems.length ? 'failed' : 'passed', fileProblems.join('; ') || undefined),
  );

  const result = verifyImage({ imageDigest: digest, bundles, predicateTypes: [...IMAGE_PREDICATE_TYPES], trust: verifier.trust, policy: verifier.policy });
  const verified: Verified = new Map(result.verified.map((v) => [v.predicateType, v]));
  for (const type of IMAGE_PREDICATE_TYPES) {
    const { id, title } = ATTESTATION_CHECKS[type]!;
    const failures = result.failures.filter((f) => f.predicateType === type);
    checks.push(
      verified.has(type)
        ? check(id, title, 'passed', `${verified.get(type)!.source}`)
        : check(id, title, 'failed', failures.map((f) => `${f.source ? `${f.source}: ` : ''}${f.message}`).join('; ') || `no ${type} bundle`),
    );
  }

  // What release.json says about each signature must be what was verified.
  const recordProblems: string[] = [];
  for (const a of records) {
    const v = verified.get(a.predicateType);
    if (!v || v.source !== a.bundlePath) continue;
    const claimed: [keyof AttestationRecord, unknown, unknown][] = [
      ['signerMode', a.signerMode, v.signerMode],
      ['signerIdentity', a.signerIdentity, v.identity],
      ['issuer', a.issuer, v.issuer],
      ['keyFingerprint', a.keyFingerprint, v.keyFingerprint],
      ['rekorLogIndex', a.rekorLogIndex, v.rekorLogIndex],
    ];
    for (const [field, says, signed] of claimed) {
      if (says !== signed) recordProblems.push(`${a.bundlePath}: release.json says ${field} ${String(says ?? '(none)')}, the bundle has ${String(signed ?? '(none)')}`);
    }
  }
  checks.push(
    check(
      'attestation-records',
      "release.json's attestation records match the verified bundles",
      recordProblems.length ? 'failed' : verified.size ? 'passed' : 'not-checked',
      recordProblems.join('; ') || (verified.size ? undefined : 'no bundle verified'),
    ),
  );
  return { checks, verified };
}

/** The SBOM and provenance files are what was signed, and the provenance names this SBOM. */
async function bindingChecks(ctx: ImageContext, verified: Verified): Promise<VerificationCheck[]> {
  const { image, baseDir } = ctx;
  const checks: VerificationCheck[] = [];
  const sbomTitle = 'SBOM file is the SBOM in the signed SBOM attestation';
  const provTitle = 'Provenance file is the signed provenance statement';
  const linkTitle = 'Signed provenance records the digest of this SBOM file';

  let sbomDigest: string | undefined;
  const sbomPath = image.sbom?.path;
  if (!image.sbom) {
    checks.push(check('sbom-binding', sbomTitle, 'failed', 'release.json links no SBOM file'));
  } else {
    const read = await readLinked(baseDir, sbomPath);
    const signed = verified.get(CYCLONEDX_BOM)?.statement;
    if ('problem' in read) checks.push(check('sbom-binding', sbomTitle, 'failed', `SBOM ${read.problem}`));
    else {
      sbomDigest = sha256Digest(read.bytes);
      let parsed: unknown;
      try {
        parsed = JSON.parse(read.bytes.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (sbomDigest !== image.sbom.digest) checks.push(check('sbom-binding', sbomTitle, 'failed', `SBOM file ${sbomPath} has digest ${sbomDigest}, release.json records ${image.sbom.digest}`));
      else if (!signed) checks.push(check('sbom-binding', sbomTitle, 'not-checked', `no verified SBOM attestation to compare ${sbomPath} with`));
      else if (parsed === undefined || canonical(parsed) !== canonical(signed.predicate)) {
        checks.push(check('sbom-binding', sbomTitle, 'failed', `SBOM file ${sbomPath} differs from the SBOM in the signed attestation (${verified.get(CYCLONEDX_BOM)!.source})`));
      } else checks.push(check('sbom-binding', sbomTitle, 'passed', sbomPath));
    }
  }

  const signedProvenance = verified.get(SLSA_PROVENANCE_V1)?.statement as Statement<{ runDetails?: { byproducts?: { digest?: { sha256?: string } }[] } }> | undefined;
  if (!image.provenance) {
    checks.push(check('provenance-binding', provTitle, 'failed', 'release.json links no provenance file'));
  } else {
    const path = image.provenance.path;
    const read = await readLinked(baseDir, path);
    if ('problem' in read) checks.push(check('provenance-binding', provTitle, 'failed', `provenance ${read.problem}`));
    else if (sha256Digest(read.bytes) !== image.provenance.digest) {
      checks.push(check('provenance-binding', provTitle, 'failed', `provenance file ${path} has digest ${sha256Digest(read.bytes)}, release.json records ${image.provenance.digest}`));
    } else if (!signedProvenance) checks.push(check('provenance-binding', provTitle, 'not-checked', `no verified provenance attestation to compare ${path} with`));
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(read.bytes.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      checks.push(
        parsed !== undefined && canonical(parsed) === canonical(signedProvenance)
          ? check('provenance-binding', provTitle, 'passed', path)
          : check('provenance-binding', provTitle, 'failed', `provenance file ${path} differs from the signed provenance statement (${verified.get(SLSA_PROVENANCE_V1)!.source})`),
      );
    }
  }

  if (!signedProvenance || sbomDigest === undefined) {
    checks.push(check('provenance-sbom', linkTitle, 'not-checked', !signedProvenance ? 'no verified provenance attestation' : 'no readable SBOM file'));
  } else {
    const recorded = (signedProvenance.predicate.runDetails?.byproducts ?? []).map((b) => b.digest?.sha256).filter((d): d is string => !!d);
    checks.push(
      recorded.includes(sbomDigest.slice('sha256:'.length))
        ? check('provenance-sbom', linkTitle, 'passed')
        : check('provenance-sbom', linkTitle, 'failed', `SBOM file ${sbomPath} has digest ${sbomDigest}; the signed provenance records ${recorded.map((d) => `sha256:${d}`).join(', ') || 'no SBOM'}`),
    );
  }
  return checks;
}

/** release.json's facts about the release must be the ones the signed provenance states. */
function releaseClaimsCheck(ctx: ImageContext, verified: Verified): VerificationCheck {
  const title = "release.json's collection, version, source and repository match the signed provenance";
  const provenance = verified.get(SLSA_PROVENANCE_V1)?.statement as
    | Statement<{ buildDefinition?: { externalParameters?: { collection?: string; releaseVersion?: string; source?: { repository?: string; commit?: string } } } }>
    | undefined;
  if (!provenance) return check('release-claims', title, 'not-checked', 'no verified provenance attestation');
  const ext = provenance.predicate.buildDefinition?.externalParameters ?? {};
  const { manifest, image } = ctx;
  const pairs: [string, unknown, unknown][] = [
    ['collection', manifest.collection, ext.collection],
    ['version', manifest.version, ext.releaseVersion],
    ['source.commit', manifest.source?.commit, ext.source?.commit],
    ['source.repository', manifest.source?.repository, ext.source?.repository],
    [`images[${image.name}].repository`, image.repository, provenance.subject[0]?.name],
  ];
  const problems = pairs.filter(([, says, signed]) => says !== signed).map(([field, says, signed]) => `release.json says ${field} ${String(says ?? '(none)')}, the signed provenance says ${String(signed ?? '(none)')}`);
  return problems.length ? check('release-claims', title, 'failed', problems.join('; ')) : check('release-claims', title, 'passed');
}

/** Blobs and referrers where the image is published, when that can be reached. */
async function registryChecks(ctx: ImageContext, digest: string, opts: VerifyReleaseOptions): Promise<VerificationCheck[]> {
  const blobsTitle = 'Manifest, config and every layer exist and hash to their digests';
  const refTitle = 'Bundles are attached to the image as OCI referrers';
  const { image } = ctx;
  if (opts.registry === false || !image.repository) {
    const why = !image.repository ? 'release.json names no repository' : (opts.offlineReason ?? 'verified offline');
    return [check('blobs', blobsTitle, 'not-checked', why), check('referrers', refTitle, 'not-checked', why)];
  }
  const subject = `${image.repository}@${digest}`;
  const registry = opts.registry;
  const layout = parseImageRef(subject);
  if (layout.kind === 'layout' && !existsSync(join(layout.dir, 'oci-layout'))) {
    const why = `the OCI layout ${layout.dir} is not on this machine`;
    return [check('blobs', blobsTitle, 'not-checked', why), check('referrers', refTitle, 'not-checked', why)];
  }
  const unreachable = (e: unknown) => {
    const err = toReleaseError(e);
    return ['NETWORK_ERROR', 'AUTH_ERROR', 'NOT_FOUND'].includes(err.code) ? err.message : undefined;
  };
  const checks: VerificationCheck[] = [];
  try {
    // Every blob read back and hashed: sizes alone prove nothing.
    const blobs = await checkImageBlobs(image.repository, digest, { ...registry, full: true });
    const problems = describeBlobProblems(blobs);
    if (!problems.length) {
      if (image.configDigest && blobs.config?.digest !== image.configDigest) problems.push(`config is ${blobs.config?.digest}, release.json records ${image.configDigest}`);
      const served = (blobs.layers ?? []).map((l) => l.digest).join(',');
      const recorded = (image.layers ?? []).map((l) => l.digest).join(',');
      if (recorded && served !== recorded) problems.push(`layers are ${served || '(none)'}, release.json records ${recorded}`);
    }
    checks.push(check('blobs', blobsTitle, problems.length ? 'failed' : 'passed', problems.length ? `${subject}: ${problems.join('; ')}` : `${(blobs.layers ?? []).length} layers`));
  } catch (e) {
    const why = unreachable(e);
    if (why === undefined) checks.push(check('blobs', blobsTitle, 'failed', `${subject}: ${toReleaseError(e).message}`));
    else return [check('blobs', blobsTitle, 'not-checked', `${image.repository} not reachable: ${why}`), check('referrers', refTitle, 'not-checked', `${image.repository} not reachable`)];
  }

  try {
    const attached = (await listReferrers(subject, registry)).filter((r) => r.artifactType?.startsWith(BUNDLE_MEDIA_TYPE_PREFIX));
    const attachedBundles = new Set<string>();
    for (const r of attached) {
      try {
        attachedBundles.add(sha256Digest((await fetchReferrerLayer(subject, r.digest, registry)).data));
      } catch {
        // an unreadable referrer attaches nothing
      }
    }
    const missing = (image.attestations ?? []).filter((a) => !attachedBundles.has(a.bundleDigest)).map((a) => `${a.bundlePath} (${a.bundleDigest})`);
    checks.push(
      missing.length
        ? check('referrers', refTitle, 'failed', `${subject} has no referrer holding ${missing.join(', ')}`)
        : check('referrers', refTitle, 'passed', `${attached.length} bundle referrers`),
    );
  } catch (e) {
    checks.push(check('referrers', refTitle, unreachable(e) === undefined ? 'failed' : 'not-checked', toReleaseError(e).message));
  }
  return checks;
}

async function verifyImageOfRelease(ctx: ImageContext, opts: VerifyReleaseOptions): Promise<ImageVerificationReport> {
  const { image } = ctx;
  const name = typeof image.name === 'string' ? image.name : '(unnamed)';
  const digest = typeof image.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(image.digest) ? image.digest : undefined;
  if (!digest) {
    const checks = [check('digest', 'release.json names the image digest', 'failed', `image ${name} has no valid digest`)];
    return { name, ok: false, checks };
  }
  const { checks, verified } = await attestationChecks(ctx, digest);
  checks.push(...(await bindingChecks(ctx, verified)), releaseClaimsCheck(ctx, verified), ...(await registryChecks(ctx, digest, opts)));
  return { name, digest, ok: checks.every((c) => c.status === 'passed'), checks };
}

/** Reads release.json as untrusted input: JSON, but its shape is one of the checks. */
export async function readManifestForCheck(manifestPath: string): Promise<{ text: string; data: Partial<ReleaseManifest> }> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `release manifest ${manifestPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `release manifest ${manifestPath} is not JSON: ${(e as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ReleaseError('INVALID_INPUT', `release manifest ${manifestPath} is not a JSON object`);
  return { text, data: data as Partial<ReleaseManifest> };
}

export async function verifyRelease(opts: VerifyReleaseOptions): Promise<VerificationReport> {
  const manifestPath = resolve(opts.manifestPath);
  const { data: manifest } = await readManifestForCheck(manifestPath);
  const schemaErrors = manifestSchemaErrors(manifest);
  const release: VerificationCheck[] = [
    schemaErrors.length
      ? check('schema', 'release.json validates against its JSON Schema', 'failed', `release.json: ${schemaErrors.slice(0, 5).join('; ')}`)
      : check('schema', 'release.json validates against its JSON Schema', 'passed'),
    signerClaimsCheck(manifest, opts.verifier),
  ];
  const images: ImageVerificationReport[] = [];
  const seen = new Set<string>();
  for (const image of Array.isArray(manifest.images) ? manifest.images : []) {
    if (!image || typeof image !== 'object') continue;
    const report = await verifyImageOfRelease({ image, baseDir: dirname(manifestPath), manifest, verifier: opts.verifier }, opts);
    if (seen.has(report.name)) {
      report.checks.unshift(check('unique-name', 'The image is listed once', 'failed', `release.json lists ${report.name} more than once`));
      report.ok = false;
    }
    seen.add(report.name);
    images.push(report);
  }
  if (images.length === 0) release.push(check('images', 'release.json lists images', 'failed', 'release.json lists no images'));
  else release.push(slsaClaimCheck(manifest, images));
  return {
    checkedAt: (opts.now ?? new Date()).toISOString(),
    policy: opts.verifier.report,
    release,
    images,
    ok: release.every((c) => c.status === 'passed') && images.length > 0 && images.every((i) => i.ok),
  };
}

/**
 * The SLSA level release.json claims, recomputed with the release's own
 * evaluator from what this verification found: an image whose checks failed
 * counts as unverified. A claim above what the evidence supports fails.
 */
function slsaClaimCheck(manifest: Partial<ReleaseManifest>, images: ImageVerificationReport[]): VerificationCheck {
  const title = "release.json's SLSA level is one the verified evidence supports";
  const claimed = manifest.slsa?.level;
  if (typeof claimed !== 'number' || !Array.isArray(manifest.images)) return check('slsa-claim', title, 'failed', 'release.json states no SLSA level');
  const verified = new Set(images.filter((i) => !i.checks.some((c) => c.status === 'failed')).map((i) => i.name));
  const records = manifest.images.map((i) => ({ ...i, attestations: i.attestations ?? [], verification: { ...i.verification!, ok: verified.has(i.name) } }));
  const supported = assessSlsaLevel(records, {
    hostedCi: manifest.builder?.runUrl !== undefined,
    ...(manifest.builder?.workflow ? { buildWorkflow: manifest.builder.workflow } : {}),
  });
  if (claimed <= supported.level) return check('slsa-claim', title, 'passed', `Build L${claimed}`);
  return check('slsa-claim', title, 'failed', `release.json claims SLSA Build L${claimed}; the verified evidence supports L${supported.level}: ${supported.reasons.at(-1)}`);
}

/** Every failed check, as `image: title: detail` lines (for errors and text output). */
export function reportFailures(report: VerificationReport): string[] {
  const line = (who: string, c: VerificationCheck) => `${who}${c.title}${c.detail ? `: ${c.detail}` : ''}`;
  return [
    ...report.release.filter((c) => c.status === 'failed').map((c) => line('release: ', c)),
    ...report.images.flatMap((i) => i.checks.filter((c) => c.status === 'failed').map((c) => line(`${i.name}: `, c))),
  ];
}
