/**
 * renderPage: release.json -> index.html + provenance.md + the files they link.
 * Everything is read and checked first (schema, paths, file digests, and in
 * strict mode every required fact); only then is anything written, so a bad
 * manifest leaves the output directory untouched.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ReleaseDiff, ReleaseManifest, VerificationReport } from '@nixrel/core';
import { ReleaseError, toJson, validateManifest, writeFileAtomic } from '@nixrel/core';
import type { MissingFact } from './facts.js';
import { relativeFileHref } from './links.js';
import { buildPageModel } from './page-model.js';
import { pageSummary } from './page-summary.js';
import { type CheckedFile, checkLinkedFiles, copyReleaseFiles, PAGE_FILES } from './release-files.js';
import { renderHtml, renderMarkdown } from './templates.js';

export interface RenderPageOptions {
  manifestPath: string;
  outDir: string;
  /** Fail when a required fact (digest, signatures, SBOM, provenance, verification) is missing. */
  strict?: boolean;
  /**
   * Prefix for the file links in provenance.md, for docs sites that serve the
   * Markdown from another URL than the copied files (e.g. `/releases/v1/`).
   * index.html always links its files relatively.
   */
  basePath?: string;
  /**
   * What a verifier found, with a policy it chose, just before rendering. The
   * page shows per image what passed, failed or was not checked; without a
   * report it says "not verified when rendered".
   */
  verification?: VerificationReport;
  /** What changed since the previous release; default: the diff file release.json names (`previous.diff`). */
  diff?: ReleaseDiff;
}

export interface RenderPageResult {
  indexHtml: string;
  markdown: string;
  /** Paths written, relative to outDir. */
  files: string[];
  missing: MissingFact[];
}

// A relative path, a root-relative path or an http(s) URL; nothing that could
// open an attribute, a Markdown construct or another scheme.
const BASE_PATH = /^(?:https?:\/\/[A-Za-z0-9.-]+(?::\d+)?)?\/?(?:[A-Za-z0-9._~-]+\/?)*$/;

function checkBasePath(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '') return '';
  if (!BASE_PATH.test(basePath) || basePath.split('/').includes('..')) {
    throw new ReleaseError('INVALID_INPUT', `invalid basePath "${basePath}": use a path such as /releases/v1/ or an http(s) URL`);
  }
  return basePath;
}

async function loadManifest(manifestPath: string): Promise<ReleaseManifest> {
  let textContent: string;
  try {
    textContent = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `release manifest not found: ${manifestPath}`, { cause: e });
  }
  let data: unknown;
  try {
    data = JSON.parse(textContent);
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `release manifest ${manifestPath} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const manifest = validateManifest(data, `release manifest ${manifestPath}`);
  const seen = new Set<string>();
  for (const image of manifest.images) {
    if (seen.has(image.name)) throw new ReleaseError('INVALID_INPUT', `release manifest ${manifestPath} lists image "${image.name}" twice`);
    seen.add(image.name);
  }
  return manifest;
}

/** The diff release.json names, already checked against its digest by checkLinkedFiles. */
async function storedDiff(manifest: ReleaseManifest, files: CheckedFile[]): Promise<ReleaseDiff | undefined> {
  const path = manifest.previous?.diff?.path;
  const file = path ? files.find((f) => f.path === path) : undefined;
  if (!file) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file.source, 'utf8'));
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `diff ${path} (/previous/diff/path) is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const d = data as Partial<ReleaseDiff>;
  if (!d || typeof d !== 'object' || !Array.isArray(d.images) || !d.from || !d.to || !d.summary) {
    throw new ReleaseError('INVALID_INPUT', `diff ${path} (/previous/diff/path) is not a release diff: it needs from, to, summary and images`);
  }
  return d as ReleaseDiff;
}

function failedChecks(report: VerificationReport | undefined): string[] {
  if (!report) return [];
  return [
    ...report.release.filter((c) => c.status === 'failed').map((c) => `release: ${c.title}${c.detail ? `: ${c.detail}` : ''}`),
    ...report.images.flatMap((i) => i.checks.filter((c) => c.status === 'failed').map((c) => `${i.name}: ${c.title}${c.detail ? `: ${c.detail}` : ''}`)),
  ];
}

export async function renderPage(opts: RenderPageOptions): Promise<RenderPageResult> {
  const basePath = checkBasePath(opts.basePath);
  const manifestPath = resolve(opts.manifestPath);
  const manifest = await loadManifest(manifestPath);
  const files = await checkLinkedFiles(manifestPath, manifest);

  const diff = opts.diff ?? (await storedDiff(manifest, files));
  const modelOptions = { ...(opts.verification ? { verification: opts.verification } : {}), ...(diff ? { diff } : {}) };
  const page = buildPageModel(manifest, { fileHref: (p) => relativeFileHref(p), ...modelOptions });
  const failed = failedChecks(opts.verification);
  if (opts.strict && failed.length > 0) {
    throw new ReleaseError('VERIFICATION_FAILED', `release ${manifest.version} failed ${failed.length} verification check${failed.length === 1 ? '' : 's'}`, { details: failed });
  }
  const required = page.missing.filter((m) => m.required);
  if (opts.strict && required.length > 0) {
    throw new ReleaseError(
      'INVALID_INPUT',
      `release manifest ${manifestPath} lacks ${required.length} required fact${required.length === 1 ? '' : 's'} for a strict page`,
      { details: required.map((m) => `${m.image ? `${m.image}: ` : ''}${m.fact}: ${m.reason}`) },
    );
  }
  const mdPage = basePath ? buildPageModel(manifest, { fileHref: (p) => relativeFileHref(p, basePath), ...modelOptions }) : page;
  const indexHtml = renderHtml(page);
  const markdown = renderMarkdown(mdPage);

  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const written = await copyReleaseFiles(manifestPath, files, outDir);
  await writeFileAtomic(join(outDir, PAGE_FILES.html), indexHtml);
  await writeFileAtomic(join(outDir, PAGE_FILES.markdown), markdown);
  await writeFileAtomic(join(outDir, PAGE_FILES.summary), toJson(pageSummary(page, opts.verification?.policy)));
  return { indexHtml, markdown, files: [PAGE_FILES.html, PAGE_FILES.markdown, PAGE_FILES.summary, ...written], missing: page.missing };
}
