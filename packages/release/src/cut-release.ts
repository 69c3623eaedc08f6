/**
 * The release, top to bottom. One call per stage, in pipeline order:
 *
 *   catalog -> build -> publish -> sbom -> provenance -> attest -> verify
 *     (-> reproduce) -> manifest -> page -> collection tags
 *
 * Each image's record is written to `.release/<version>/images/<name>.json`
 * after every stage with the hash of that stage's inputs, so a re-run (after a
 * kill, or with nothing changed) skips what is done. Nothing outside the state
 * directory (page, collection tags) is published before every image verified.
 */
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { buildProvenance, githubActionsContext, githubBuilderId, IMAGE_PREDICATE_TYPES, LOCAL_BUILDER_ID } from '@nixrel/attest';
import {
  type ImageArtifact,
  type ImageRecord,
  type ImageSpec,
  type Logger,
  ReleaseError,
  type ReleaseManifest,
  sha256Digest,
  toJson,
  toReleaseError,
  type VerificationPolicy,
  validateManifest,
  writeFileAtomic,
} from '@nixrel/core';
import { nixEnvFor, nixVersion } from '@nixrel/nix';
import { addTags, listTags, type RegistryOptions } from '@nixrel/oci';
import { loadCatalog, selectImages } from './catalog.js';
import type { ProgressReporter } from './progress.js';
import { assembleManifest } from './release-manifest.js';
import { chooseSigner, type SignerChoice, type SignerOptions } from './signer.js';
import { workflowPathOfIdentity } from './slsa-level.js';
import { gitTags, readSourceInfo, type SourceInfo } from './source.js';
import { attestImage, verifyImageAttestations } from './stages/attest.js';
import { buildImages } from './stages/build.js';
import { imageRepository, publishImage, recordPublished } from './stages/publish.js';
import { reproduceImage } from './stages/reproduce.js';
import { inputHash, markStage, ReleaseState, readPointer, stageIsCurrent, writePointer } from './state.js';
import { assertVersion, componentTag, nextCollectionVersion } from './versioning.js';

/** Every image of a release carries these three attestations. */
const PREDICATE_TYPES = [...IMAGE_PREDICATE_TYPES];

export interface ReleaseOptions {
  repoRoot: string;
  collection: string;
  images?: string[];
  /** `<host>[:port]/<path>` or `oci:<dir>`; default: the OCI layout `.release/oci`. */
  registry?: string;
  version?: string;
  signer: Omit<SignerOptions, 'keyDir' | 'env'>;
  /** Expected signer identity when verifying (keyless); default: the identity that signed. */
  policy?: Pick<VerificationPolicy, 'certificateIdentity' | 'certificateIdentityRegexp' | 'certificateOidcIssuer'>;
  reproduce?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  /** Where the page goes; default `site/<version>`. */
  outDir?: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  progress: ProgressReporter;
}

/** Everything the stages of one release share. */
export interface ReleaseContext {
  opts: ReleaseOptions;
  specs: ImageSpec[];
  source: SourceInfo;
  version: string;
  registry: string;
  state: ReleaseState;
  stateRoot: string;
  registryOptions: RegistryOptions;
  nixEnv: NodeJS.ProcessEnv;
}

export interface ReleaseResult {
  version: string;
  stateDir: string;
  manifestPath: string;
  pageDir: string;
  manifest: ReleaseManifest;
}

export function defaultRegistry(repoRoot: string): string {
  return `oci:${join(repoRoot, '.release', 'oci')}`;
}

/** What a release knows before it builds: the images, the source, where they go. */
export type ReleaseBase = Omit<ReleaseContext, 'version' | 'state'>;

export async function prepareRelease(opts: ReleaseOptions): Promise<ReleaseBase> {
  const specs = selectImages(await loadCatalog(opts.repoRoot), { collection: opts.collection, images: opts.images });
  return {
    opts,
    specs,
    source: await readSourceInfo(opts.repoRoot, opts.env),
    registry: opts.registry ?? defaultRegistry(opts.repoRoot),
    stateRoot: join(opts.repoRoot, '.release'),
    registryOptions: { logger: opts.logger, env: opts.env },
    nixEnv: nixEnvFor(opts.env),
  };
}

export function withVersion(base: ReleaseBase, version: string): ReleaseContext {
  return { ...base, version, state: ReleaseState.forVersion(base.stateRoot, version) };
}

/**
 * The same commit with the same images is the same release: its version is
 * reused, so a killed or repeated run resumes instead of starting another.
 * Otherwise the next free build number of the day, counting git tags and the
 * tags already in the registry.
 */
export async function resolveVersion(base: ReleaseBase, imageVersions: Map<string, string>): Promise<string> {
  const { opts, specs, source } = base;
  if (opts.version) {
    assertVersion(opts.version);
    return opts.version;
  }
  const names = specs.map((s) => s.name).sort();
  const last = await readPointer(base.stateRoot, opts.collection);
  if (last && last.commit === source.commit && last.images.join(',') === names.join(',')) return last.version;
  const appVersion = await collectionAppVersion(opts.repoRoot, specs, imageVersions);
  const taken = new Set(await gitTags(opts.repoRoot, `${opts.collection}-v`));
  for (const spec of specs) {
    const tags = await listTags(imageRepository(base.registry, spec.name), base.registryOptions).catch(() => [] as string[]);
    for (const tag of tags) taken.add(tag);
  }
  return nextCollectionVersion(opts.collection, appVersion, new Date(), taken);
}

/**
 * A collection is versioned after its application: the image whose package.json
 * marks it with `"appVersion": true` (sbomify-app for sbomify) lends its Nix
 * version; without a mark, the first image in name order does.
 */
async function collectionAppVersion(repoRoot: string, specs: ImageSpec[], imageVersions: Map<string, string>): Promise<string> {
  let chosen = specs[0];
  for (const spec of specs) {
    const pkg = JSON.parse(await readFile(join(repoRoot, spec.packageDir, 'package.json'), 'utf8')) as { image?: { appVersion?: unknown } };
    if (pkg.image?.appVersion === true) chosen = spec;
  }
  const version = chosen && imageVersions.get(chosen.name);
  if (!version) throw new ReleaseError('NOT_FOUND', 'no image version to name the collection version after');
  return version.replace(/[^A-Za-z0-9._-]/g, '_');
}

function newRecord(spec: ImageSpec): ImageRecord {
  return {
    name: spec.name,
    collection: spec.collection,
    version: '',
    attribute: spec.attribute,
    flake: spec.flake,
    packageDir: spec.packageDir,
    metadata: spec.metadata,
    tags: [],
    layers: [],
    attestations: [],
    stages: {},
  };
}

export interface BuildOutcome {
  artifacts: ImageArtifact[];
  nixVersion: string;
  startedOn: string;
  finishedOn: string;
}

/** Build: one Nix evaluation and one build for all images. */
export async function runBuild(base: ReleaseBase): Promise<BuildOutcome> {
  const { opts } = base;
  for (const spec of base.specs) opts.progress.stage(spec.name, 'build');
  const startedOn = new Date().toISOString();
  const [artifacts, version] = await Promise.all([
    buildImages(base.specs, { repoRoot: opts.repoRoot, logger: opts.logger, env: base.nixEnv }),
    nixVersion({ env: base.nixEnv }),
  ]);
  return { artifacts, nixVersion: version.version, startedOn, finishedOn: new Date().toISOString() };
}

/** Each image's record takes the facts of its build (resuming the record of an earlier run). */
export async function recordBuild(ctx: ReleaseContext, outcome: BuildOutcome): Promise<{ artifact: ImageArtifact; record: ImageRecord }[]> {
  const ci = githubActionsContext(ctx.opts.env);
  const out: { artifact: ImageArtifact; record: ImageRecord }[] = [];
  for (const artifact of outcome.artifacts) {
    const spec = ctx.specs.find((s) => s.name === artifact.name)!;
    const record = (await ctx.state.readRecord(spec.name)) ?? newRecord(spec);
    const hash = inputHash({ outPath: artifact.outPath, closurePath: artifact.closurePath });
    if (!stageIsCurrent(record, 'build', hash)) {
      record.version = artifact.version;
      record.flake = spec.flake;
      record.packageDir = spec.packageDir;
      record.outPath = artifact.outPath;
      record.format = artifact.format;
      record.metadata = artifact.metadata;
      record.build = {
        installable: artifact.installable,
        drvPath: artifact.drvPath,
        closurePath: artifact.closurePath,
        system: artifact.system,
        nixVersion: outcome.nixVersion,
        startedOn: outcome.startedOn,
        finishedOn: outcome.finishedOn,
        ...(ci ? { runUrl: ci.runUrl } : {}),
      };
      markStage(record, 'build', hash);
      await ctx.state.writeRecord(record);
    }
    out.push({ artifact, record });
  }
  return out;
}

/** Publish and SBOM for one image: what a CI matrix job does. */
export async function runPublishAndSbom(ctx: ReleaseContext, artifact: ImageArtifact, record: ImageRecord): Promise<void> {
  const { opts, state } = ctx;
  const repository = imageRepository(ctx.registry, record.name);

  const publishHash = inputHash({ outPath: artifact.outPath, repository });
  if (!stageIsCurrent(record, 'publish', publishHash)) {
    opts.progress.stage(record.name, 'publish');
    const tag = componentTag(record.name, record.version, ctx.source.commit);
    const published = await publishImage(artifact, repository, tag, {
      ...ctx.registryOptions,
      onProgress: (p) => opts.progress.bytes(record.name, p.bytes, p.total),
    });
    recordPublished(record, published);
    markStage(record, 'publish', publishHash);
    await state.writeRecord(record);
  }

  const sbomFile = ReleaseState.sbomFile(record.name);
  // The SBOM names the repository; provenance and attestations too, and the attestations live there.
  const sbomHash = inputHash({ closure: artifact.closurePath, digest: record.digest, repository, commitTime: ctx.source.commitTime });
  if (!stageIsCurrent(record, 'sbom', sbomHash) || !existsSync(join(state.dir, sbomFile))) {
    opts.progress.stage(record.name, 'sbom');
    // Loaded only when an SBOM is to be made: the CycloneDX library and its schemas are heavy to import.
    const { generateSbom } = await import('@nixrel/sbom');
    const sbom = await generateSbom({
      closureFile: artifact.closurePath,
      outFile: join(state.dir, sbomFile),
      image: { digest: record.digest!, repositoryUrl: repository },
      sourceDateEpoch: sourceDateEpoch(ctx),
      checkStore: true,
    });
    record.sbom = { ...sbom, path: sbomFile };
    markStage(record, 'sbom', sbomHash);
    await state.writeRecord(record);
  }
}

/** SOURCE_DATE_EPOCH when set, else the commit time: the same commit gives the same SBOM. */
function sourceDateEpoch(ctx: ReleaseContext): number {
  const fromEnv = ctx.opts.env.SOURCE_DATE_EPOCH;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : ctx.source.commitTime;
}

/** Provenance, signing/attestation and verification for one image: the isolated job's work. */
export async function runAttestation(ctx: ReleaseContext, record: ImageRecord, signer: SignerChoice): Promise<void> {
  const { opts, state } = ctx;
  if (!record.digest || !record.sbom || !record.build) {
    throw new ReleaseError('INVALID_INPUT', `${record.name}: build, publish and sbom must finish before attestation (record ${state.recordPath(record.name)})`);
  }
  const repository = imageRepository(ctx.registry, record.name);
  const ci = githubActionsContext(opts.env);

  const provenanceFile = ReleaseState.provenanceFile(record.name);
  const flakeLockPath = join(opts.repoRoot, record.flake ?? '.', 'flake.lock');
  const flakeLock = existsSync(flakeLockPath) ? await readFile(flakeLockPath, 'utf8') : undefined;
  const provenanceHash = inputHash({ digest: record.digest, repository, sbom: record.sbom.digest, commit: ctx.source.commit, version: ctx.version, flakeLock, build: record.build });
  if (!stageIsCurrent(record, 'provenance', provenanceHash) || !existsSync(join(state.dir, provenanceFile))) {
    opts.progress.stage(record.name, 'provenance');
    const statement = buildProvenance({
      image: { repository, digest: record.digest },
      flake: publishedFlakeRef(ctx.source, record),
      source: { repository: ctx.source.repository, commit: ctx.source.commit, ...(ctx.source.ref ? { ref: ctx.source.ref } : {}) },
      collection: record.collection,
      releaseVersion: ctx.version,
      nix: { version: record.build.nixVersion, system: record.build.system },
      ...(flakeLock ? { flakeLock } : {}),
      sbom: { digest: record.sbom.digest, name: basename(record.sbom.path) },
      ...(ci ? { ci, builderId: githubBuilderId(ci, signer.token) } : {}),
      startedOn: record.build.startedOn,
      finishedOn: record.build.finishedOn,
    });
    const text = `${JSON.stringify(statement, null, 2)}\n`;
    await writeFileAtomic(join(state.dir, provenanceFile), text);
    record.provenance = {
      path: provenanceFile,
      digest: sha256Digest(text),
      predicateType: statement.predicateType,
      buildType: statement.predicate.buildDefinition.buildType,
    };
    markStage(record, 'provenance', provenanceHash);
    await state.writeRecord(record);
  }

  const attestHash = inputHash({ digest: record.digest, repository, provenance: record.provenance!.digest, sbom: record.sbom.digest, signer: signer.signer.label });
  const bundlesPresent = record.attestations.length > 0 && record.attestations.every((a) => existsSync(join(state.dir, a.bundlePath)));
  if (!stageIsCurrent(record, 'attest', attestHash) || !bundlesPresent) {
    opts.progress.stage(record.name, 'attest');
    record.attestations = await attestImage({
      image: `${repository}@${record.digest}`,
      sbomPath: join(state.dir, record.sbom.path),
      provenancePath: join(state.dir, provenanceFile),
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
    markStage(record, 'attest', attestHash);
    record.verification = undefined;
    await state.writeRecord(record);
  }
}

/**
 * The flake as anyone can fetch it: `git+<repository>?rev=<commit>[&dir=<flake>]`
 * when the source has a web URL; else the local path it was built from.
 */
export function publishedFlakeRef(source: SourceInfo, record: ImageRecord): { ref: string; attribute: string } {
  const [localRef, attribute] = record.build!.installable.split('#') as [string, string];
  if (!source.url) return { ref: localRef, attribute };
  const dir = record.flake && record.flake !== '.' ? `&dir=${encodeURIComponent(record.flake)}` : '';
  return { ref: `git+${source.url}?rev=${source.commit}${dir}`, attribute };
}

/** The policy a release verifies against: the expected identity pinned exactly, or the key. */
export function releasePolicy(ctx: ReleaseContext, record: ImageRecord): VerificationPolicy {
  const first = record.attestations[0];
  if (!first) throw new ReleaseError('VERIFICATION_FAILED', `${record.name}: no attestations to verify`);
  if (first.signerMode === 'key') return { keyFingerprint: first.keyFingerprint!, predicateTypes: PREDICATE_TYPES };
  const p = ctx.opts.policy ?? {};
  return {
    ...(p.certificateIdentityRegexp
      ? { certificateIdentityRegexp: p.certificateIdentityRegexp }
      : { certificateIdentity: p.certificateIdentity ?? first.signerIdentity! }),
    certificateOidcIssuer: p.certificateOidcIssuer ?? first.issuer!,
    predicateTypes: PREDICATE_TYPES,
  };
}

/** Verifies what the registry serves for the image, as an auditor would. */
export async function runVerify(ctx: ReleaseContext, record: ImageRecord, signer: SignerChoice): Promise<void> {
  ctx.opts.progress.stage(record.name, 'verify');
  const policy = releasePolicy(ctx, record);
  const result = await verifyImageAttestations(`${imageRepository(ctx.registry, record.name)}@${record.digest}`, {
    policy,
    trust: signer.trust,
    registry: ctx.registryOptions,
  });
  const hash = inputHash({ attestations: record.attestations.map((a) => a.bundleDigest), policy });
  // Verified again with the same outcome: keep the record (and its time) as it was.
  if (!(result.record.ok && record.verification?.ok && stageIsCurrent(record, 'verify', hash))) {
    record.verification = result.record;
    markStage(record, 'verify', hash);
    await ctx.state.writeRecord(record);
  }
  if (!result.record.ok) {
    throw new ReleaseError('VERIFICATION_FAILED', `${record.name}: verification failed`, { details: result.record.failures });
  }
}

export async function runReproduce(ctx: ReleaseContext, record: ImageRecord): Promise<void> {
  const hash = inputHash({ outPath: record.outPath, digest: record.digest });
  if (stageIsCurrent(record, 'reproduce', hash) && record.reproducibility) return;
  ctx.opts.progress.stage(record.name, 'reproduce');
  record.reproducibility = await reproduceImage(record, { env: ctx.nixEnv, cwd: ctx.opts.repoRoot });
  markStage(record, 'reproduce', hash);
  await ctx.state.writeRecord(record);
}

/** Runs `work` for every item with at most `limit` at a time; collects every failure. */
export async function forEachBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<unknown[]> {
  const failures: unknown[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        failures.push(e);
      }
    }
  });
  await Promise.all(lanes);
  return failures;
}

export function throwIfFailed(failures: unknown[], what: string): void {
  if (failures.length === 0) return;
  const errors = failures.map((f) => toReleaseError(f));
  if (errors.length === 1) throw errors[0];
  throw new ReleaseError(errors[0]!.code, `${errors.length} images failed ${what}`, {
    details: errors.flatMap((e) => [e.message, ...e.details.map((d) => `  ${d}`)]),
  });
}

/** The records earlier jobs left in the state directory: one per selected image, or an error naming the missing. */
export async function readReleaseRecords(ctx: ReleaseContext): Promise<ImageRecord[]> {
  const records = (await ctx.state.readAll()).filter((r) => ctx.specs.some((s) => s.name === r.name));
  const missing = ctx.specs.map((s) => s.name).filter((n) => !records.some((r) => r.name === n));
  if (missing.length > 0) throw new ReleaseError('NOT_FOUND', `no build records in ${ctx.state.dir} for: ${missing.join(', ')}`);
  return records;
}

export async function createSigner(ctx: ReleaseContext): Promise<SignerChoice> {
  return chooseSigner({ ...ctx.opts.signer, keyDir: join(ctx.stateRoot, 'keys'), env: ctx.opts.env }, ctx.opts.logger);
}

/**
 * release.json (in the state directory, next to the files it names), then the
 * page, then the collection tag on every image. Called only once every image
 * verified; each step is idempotent so a killed run can redo them.
 */
export async function finishRelease(ctx: ReleaseContext, records: ImageRecord[], signer: SignerChoice | undefined): Promise<ReleaseResult> {
  const { opts, state } = ctx;
  const failed = records.filter((r) => !r.verification?.ok).map((r) => r.name);
  if (failed.length > 0) throw new ReleaseError('VERIFICATION_FAILED', `not every image verified: ${failed.join(', ')}; nothing published`);

  opts.progress.step('writing release.json');
  const ci = githubActionsContext(opts.env);
  const first = records[0]?.attestations[0];
  let publicKeyPath: string | undefined;
  if (first?.signerMode === 'key') {
    publicKeyPath = 'keys/release.pub';
    await mkdir(join(state.dir, 'keys'), { recursive: true });
    if (signer?.trust.mode === 'key') {
      // A `--key FILE` has no .pub beside it: the verifying key is what the signer holds.
      await writeFileAtomic(join(state.dir, publicKeyPath), signer.trust.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    } else {
      await copyFile(signer?.publicKeyPath ?? join(ctx.stateRoot, 'keys', 'signing-key.pub'), join(state.dir, publicKeyPath));
    }
  }
  const signerIdentity = first?.signerIdentity;
  // The manifest lists the collection tag the images get once all of this is written.
  for (const record of records) if (!record.tags.includes(ctx.version)) record.tags.push(ctx.version);
  const manifest = assembleManifest({
    collection: opts.collection,
    version: ctx.version,
    date: new Date(),
    source: ctx.source,
    tag: ctx.version,
    builder: ci
      ? {
          // As in the provenance: a keyless GitHub signature names the signing workflow (attest.yml), the builder id.
          id: first?.signerMode === 'keyless' && signerIdentity && workflowPathOfIdentity(signerIdentity) ? signerIdentity : ci.builderId,
          runUrl: ci.runUrl,
          workflow: ci.workflowPath,
        }
      : { id: LOCAL_BUILDER_ID },
    signer: {
      mode: first?.signerMode ?? 'key',
      ...(signerIdentity ? { identity: signerIdentity } : {}),
      ...(first?.issuer ? { issuer: first.issuer } : {}),
      ...(first?.keyFingerprint ? { keyFingerprint: first.keyFingerprint } : {}),
      ...(publicKeyPath ? { publicKeyPath } : {}),
      ...(first?.rekorUrl ? { rekorUrl: first.rekorUrl } : {}),
    },
    registry: ctx.registry,
    images: records,
    buildContext: {
      hostedCi: ci !== undefined,
      ...(ci ? { buildWorkflow: ci.workflowPath } : {}),
    },
  });
  const manifestPath = join(state.dir, 'release.json');
  const manifestText = await writeManifestIfChanged(manifestPath, manifest);

  const pageDir = resolve(opts.env.INIT_CWD ?? opts.repoRoot, opts.outDir ?? join(opts.repoRoot, 'site', ctx.version));
  if (!(await pageShows(pageDir, manifestText))) {
    // The page is rendered aside and moved into place whole: no half page, ever.
    opts.progress.step('rendering the provenance page');
    const staging = join(state.dir, 'page.partial');
    await rm(staging, { recursive: true, force: true });
    const { renderPage } = await import('@nixrel/provenance-page');
    await renderPage({ manifestPath, outDir: staging, strict: true });
    await rm(pageDir, { recursive: true, force: true });
    await mkdir(dirname(pageDir), { recursive: true });
    await rename(staging, pageDir).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EXDEV') throw e;
      await cp(staging, pageDir, { recursive: true });
      await rm(staging, { recursive: true, force: true });
    });
  }

  opts.progress.step(`tagging every image ${ctx.version}`);
  for (const record of records) {
    await addTags(`${imageRepository(ctx.registry, record.name)}@${record.digest}`, [ctx.version], ctx.registryOptions);
    await state.writeRecord(record);
  }
  await writePointer(ctx.stateRoot, {
    collection: opts.collection,
    version: ctx.version,
    commit: ctx.source.commit,
    images: records.map((r) => r.name).sort(),
    complete: true,
  });
  return { version: ctx.version, stateDir: state.dir, manifestPath, pageDir, manifest };
}

/**
 * A re-run that changed nothing keeps release.json as it was, date included, so
 * the page need not be rendered again. Returns the text now on disk.
 */
async function writeManifestIfChanged(path: string, manifest: ReleaseManifest): Promise<string> {
  const text = toJson(manifest);
  if (existsSync(path)) {
    const previous = await readFile(path, 'utf8');
    const withoutDate = (t: string) => JSON.stringify({ ...(JSON.parse(t) as object), date: undefined });
    if (withoutDate(previous) === withoutDate(text)) return previous;
  }
  validateManifest(manifest, 'the assembled release manifest');
  await writeFileAtomic(path, text);
  return text;
}

/** The page in `dir` was rendered from exactly this manifest (it carries a copy). */
async function pageShows(dir: string, manifestText: string): Promise<boolean> {
  const copy = join(dir, 'release.json');
  return existsSync(join(dir, 'index.html')) && existsSync(copy) && (await readFile(copy, 'utf8')) === manifestText;
}

/** The whole release on this machine. */
export async function cutRelease(opts: ReleaseOptions): Promise<ReleaseResult> {
  const base = await prepareRelease(opts);
  const outcome = await runBuild(base);
  const ctx = withVersion(base, await resolveVersion(base, new Map(outcome.artifacts.map((a) => [a.name, a.version]))));
  opts.progress.step(`release ${ctx.version} of ${opts.collection}: ${ctx.specs.length} images to ${ctx.registry}`);
  await writePointer(ctx.stateRoot, {
    collection: opts.collection,
    version: ctx.version,
    commit: ctx.source.commit,
    images: ctx.specs.map((s) => s.name).sort(),
    complete: false,
  });
  const signer = await createSigner(ctx);
  const built = await recordBuild(ctx, outcome);
  const failures = await forEachBounded(built, opts.concurrency ?? 2, async ({ artifact, record }) => {
    try {
      await runPublishAndSbom(ctx, artifact, record);
      await runAttestation(ctx, record, signer);
      await runVerify(ctx, record, signer);
      if (opts.reproduce) await runReproduce(ctx, record);
      opts.progress.stage(record.name, 'done', record.digest);
    } catch (e) {
      opts.progress.stage(record.name, 'failed', toReleaseError(e).message);
      throw e;
    }
  });
  throwIfFailed(failures, 'the release (state kept; run the same command again to resume)');
  return finishRelease(ctx, built.map((b) => b.record), signer);
}
