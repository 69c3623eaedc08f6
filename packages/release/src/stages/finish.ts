/**
 * The finishing stage, the one that works on the whole release. First every
 * check that can refuse the release (every image verified, the page's
 * directory is one the tool may write, no image's repository has the
 * collection tag on another digest, release.json matches its schema); only
 * then release.json (in the state directory, next to the files it names),
 * the page rendered aside, the collection tag on every image, and last the
 * page moved into place whole. Each step is idempotent, so a killed run can
 * redo them. release.json carries the diff against the previous release.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { githubActionsContext, LOCAL_BUILDER_ID } from '@nixrel/attest';
import {
  assertOutputDir,
  type ImageRecord,
  isReleaseError,
  ReleaseError,
  type ReleaseManifest,
  toJson,
  validateManifest,
  workflowPathOfIdentity,
  writeFileAtomic,
} from '@nixrel/core';
import { addTags, resolveImage } from '@nixrel/oci';
import { recordDiff } from '../diff/record-diff.js';
import { imageRepository, type ReleaseContext, type ReleaseOptions, type ReleaseResult } from '../release-context.js';
import { assembleManifest } from '../release-manifest.js';
import type { SignerChoice } from '../signer.js';
import { writePointer } from '../state.js';
import { movePageIntoPlace, PAGE_STAGING_DIR, stagePage } from '../verified-page.js';
import { PUBLIC_KEY_FILE, releaseOwnPolicy, verifierTuf } from '../verifier-policy.js';
import { verifyRelease } from '../verify-release.js';
import { releasePolicy } from './verify.js';

/** Publishes the verifying key beside release.json; returns its path relative to it. */
async function publishPublicKey(ctx: ReleaseContext, signer: SignerChoice | undefined): Promise<string> {
  const target = join(ctx.state.dir, PUBLIC_KEY_FILE);
  await mkdir(dirname(target), { recursive: true });
  if (signer?.trust.mode === 'key') {
    // A `--key FILE` has no .pub beside it: the verifying key is what the signer holds.
    await writeFileAtomic(target, signer.trust.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  } else {
    await copyFile(signer?.publicKeyPath ?? join(ctx.stateRoot, 'keys', 'signing-key.pub'), target);
  }
  return PUBLIC_KEY_FILE;
}

function releaseManifest(ctx: ReleaseContext, records: ImageRecord[], publicKeyPath: string | undefined): ReleaseManifest {
  const ci = githubActionsContext(ctx.opts.env);
  const first = records[0]?.attestations[0];
  return assembleManifest({
    collection: ctx.opts.collection,
    version: ctx.version,
    date: new Date(),
    source: ctx.source,
    tag: ctx.version,
    builder: ci
      ? {
          // As in the provenance: a keyless GitHub signature names the signing workflow (attest.yml), the builder id.
          id: first?.signerMode === 'keyless' && first.signerIdentity && workflowPathOfIdentity(first.signerIdentity) ? first.signerIdentity : ci.builderId,
          runUrl: ci.runUrl,
          workflow: ci.workflowPath,
        }
      : { id: LOCAL_BUILDER_ID },
    signer: {
      mode: first?.signerMode ?? 'key',
      ...(first?.signerIdentity ? { identity: first.signerIdentity } : {}),
      ...(first?.issuer ? { issuer: first.issuer } : {}),
      ...(first?.keyFingerprint ? { keyFingerprint: first.keyFingerprint } : {}),
      ...(publicKeyPath ? { publicKeyPath } : {}),
      ...(first?.rekorUrl ? { rekorUrl: first.rekorUrl } : {}),
    },
    registry: ctx.registry,
    images: records,
    buildContext: { hostedCi: ci !== undefined, ...(ci ? { buildWorkflow: ci.workflowPath } : {}) },
  });
}

/**
 * A re-run that changed nothing keeps release.json as it was, date included, so
 * the page need not be rendered again. Returns the text now on disk.
 */
async function writeManifestIfChanged(path: string, manifest: ReleaseManifest): Promise<string> {
  const text = toJson(manifest);
  if (existsSync(path)) {
    const previous = await readFile(path, 'utf8');
    // A previous file cut short (a crash, a full disk) is not the same manifest: it is written again.
    const withoutDate = (t: string) => {
      try {
        return JSON.stringify({ ...(JSON.parse(t) as object), date: undefined });
      } catch {
        return undefined;
      }
    };
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

/** The page directory `--out` names, relative to where the command was run. */
export function outDirOf(opts: ReleaseOptions & { outDir: string }): string {
  return resolve(opts.env.INIT_CWD ?? opts.repoRoot, opts.outDir);
}

/** Where the page goes: `--out`, else `site/<version>` in the repository. */
export function pageDirOf(opts: ReleaseOptions, version: string): string {
  return opts.outDir ? outDirOf({ ...opts, outDir: opts.outDir }) : join(opts.repoRoot, 'site', version);
}

/**
 * The release verifies itself as an auditor would (its own policy, every
 * linked file, the registry) and the page is rendered from that report, into
 * the state directory, marked as the tool's, ready to be moved into place.
 */
async function renderPageAside(ctx: ReleaseContext, records: ImageRecord[], signer: SignerChoice | undefined, manifestPath: string): Promise<string> {
  ctx.opts.progress.step('verifying the release and rendering its provenance page');
  const first = records[0]!;
  const verifier = await releaseOwnPolicy({
    pinned: releasePolicy(ctx, first),
    ...(signer ? { signer } : {}),
    ...(ctx.opts.signer.trustedRoot ? { trustedRootFile: ctx.opts.signer.trustedRoot } : {}),
    ...(first.attestations[0]?.rekorUrl ? { rekorUrl: first.attestations[0].rekorUrl } : {}),
    stateDir: ctx.state.dir,
    tuf: verifierTuf(ctx.opts.repoRoot, ctx.opts.env),
  });
  const report = await verifyRelease({ manifestPath, verifier, registry: ctx.registryOptions });
  const staging = join(ctx.state.dir, PAGE_STAGING_DIR);
  await stagePage({ manifestPath, staging, report, strict: true });
  return staging;
}

/** A collection tag already on another digest in an image's repository refuses the release (tags never move). */
async function assertCollectionTagFree(ctx: ReleaseContext, record: ImageRecord): Promise<void> {
  const repository = imageRepository(ctx.registry, record.name);
  const current = await resolveImage(`${repository}:${ctx.version}`, ctx.registryOptions).catch((e: unknown) => {
    if (isReleaseError(e, 'NOT_FOUND')) return undefined;
    throw e;
  });
  if (current && current.digest !== record.digest) {
    throw new ReleaseError('CONFLICT', `tag ${repository}:${ctx.version} already points at ${current.digest}, not at this release's ${record.digest}; tags are never moved: release under another --version; nothing was published`);
  }
}

export async function finishRelease(ctx: ReleaseContext, records: ImageRecord[], signer: SignerChoice | undefined): Promise<ReleaseResult> {
  const { opts, state } = ctx;
  // Everything that can refuse the release, before anything leaves the state directory.
  const failed = records.filter((r) => !r.verification?.ok).map((r) => r.name);
  if (failed.length > 0) throw new ReleaseError('VERIFICATION_FAILED', `not every image verified: ${failed.join(', ')}; nothing published`);
  const pageDir = pageDirOf(opts, ctx.version);
  await assertOutputDir(pageDir, opts.repoRoot);
  for (const record of records) await assertCollectionTagFree(ctx, record);

  opts.progress.step('writing release.json');
  const keySigned = records[0]?.attestations[0]?.signerMode === 'key';
  const publicKeyPath = keySigned ? await publishPublicKey(ctx, signer) : undefined;
  // The manifest lists the collection tag the images get once all of this is written.
  const tagged = records.map((r) => (r.tags.includes(ctx.version) ? r : { ...r, tags: [...r.tags, ctx.version] }));
  const manifest = releaseManifest(ctx, tagged, publicKeyPath);
  // What changed since the previous release kept here, stored beside release.json for the page.
  const previous = await recordDiff(ctx.stateRoot, state.dir, manifest);
  if (previous) manifest.previous = previous;
  const manifestPath = join(state.dir, 'release.json');
  const manifestText = await writeManifestIfChanged(manifestPath, manifest);
  const staging = (await pageShows(pageDir, manifestText)) ? undefined : await renderPageAside(ctx, records, signer, manifestPath);

  opts.progress.step(`tagging every image ${ctx.version}`);
  for (const record of tagged) {
    await addTags(`${imageRepository(ctx.registry, record.name)}@${record.digest}`, [ctx.version], ctx.registryOptions);
    await state.writeRecord(record);
  }
  if (staging) {
    opts.progress.step('publishing the provenance page');
    await movePageIntoPlace(staging, pageDir);
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
