/**
 * The provenance site: `<site>/<collection>/<version>/` holds one rendered
 * page each (index.html, release.json, page.json). This writes
 * `<site>/index.html`, every release of every collection, newest first, and
 * `<site>/<collection>/latest/index.html`, which sends the reader on to the
 * newest release of that collection.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ReleaseError, validateManifest, writeFileAtomic } from '@nixrel/core';
import { formatDate } from './dates.js';
import type { PageSummaryFile } from './page-summary.js';
import { PAGE_FILES } from './release-files.js';
import { renderLatest, renderSiteIndex } from './templates.js';

export interface SiteRelease {
  collection: string;
  version: string;
  date: string;
  dateText: string;
  /** Directory under the collection, and the link to it from the site's root. */
  dir: string;
  href: string;
  images: number;
  slsaLevel: number;
  verification: string;
  verificationStatus: 'all' | 'some' | 'none';
  reproducibility: string;
}

export interface SiteIndex {
  releases: SiteRelease[];
  collections: { name: string; latest: string; href: string }[];
}

const LATEST = 'latest';

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${what} ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

async function dirs(path: string): Promise<string[]> {
  return (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

async function readRelease(site: string, collection: string, dir: string): Promise<SiteRelease | undefined> {
  const base = join(site, collection, dir);
  const manifestPath = join(base, PAGE_FILES.manifest);
  if (!existsSync(manifestPath)) return undefined;
  const manifest = validateManifest(await readJson(manifestPath, 'release manifest'), `release manifest ${manifestPath}`);
  if (manifest.collection !== collection) {
    throw new ReleaseError('INVALID_INPUT', `release manifest ${manifestPath} is of collection "${manifest.collection}", but sits under ${collection}/`);
  }
  const summaryPath = join(base, PAGE_FILES.summary);
  // What the page said when it was rendered; the release's own claims are never read for this.
  const summary = existsSync(summaryPath) ? ((await readJson(summaryPath, 'page summary')) as Partial<PageSummaryFile>) : undefined;
  const v = summary?.verification;
  const total = manifest.images.length;
  const matched = manifest.images.filter((i) => i.reproducibility?.match).length;
  const differ = manifest.images.filter((i) => i.reproducibility && !i.reproducibility.match).length;
  return {
    collection,
    version: manifest.version,
    date: manifest.date,
    dateText: formatDate(manifest.date),
    dir,
    href: `${encodeURIComponent(collection)}/${encodeURIComponent(dir)}/`,
    images: total,
    slsaLevel: manifest.slsa.level,
    verification: v?.rendered ? `${v.passed} of ${v.total} verified` : 'not verified when rendered',
    verificationStatus: v?.rendered ? (v.passed === v.total ? 'all' : 'some') : 'none',
    reproducibility: matched + differ === 0 ? 'reproducibility not checked' : `${matched} of ${total} reproduced${differ > 0 ? `, ${differ} differ` : ''}`,
  };
}

/** Reads every release under `site`, newest first. */
export async function readSite(site: string): Promise<SiteIndex> {
  if (!existsSync(site)) throw new ReleaseError('NOT_FOUND', `site directory not found: ${site}`);
  const releases: SiteRelease[] = [];
  for (const collection of (await dirs(site)).sort()) {
    for (const dir of (await dirs(join(site, collection))).sort()) {
      if (dir === LATEST) continue;
      const release = await readRelease(site, collection, dir);
      if (release) releases.push(release);
    }
  }
  releases.sort((a, b) => b.date.localeCompare(a.date) || b.version.localeCompare(a.version));
  const collections = new Map<string, SiteRelease>();
  for (const r of releases) if (!collections.has(r.collection)) collections.set(r.collection, r);
  return {
    releases,
    collections: [...collections.values()].map((r) => ({ name: r.collection, latest: r.version, href: r.href })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Writes `<site>/index.html` and `<site>/<collection>/latest/index.html`; returns the paths written, relative to site. */
export async function writeSiteIndex(siteDir: string): Promise<{ index: SiteIndex; files: string[] }> {
  const site = resolve(siteDir);
  const index = await readSite(site);
  if (index.releases.length === 0) throw new ReleaseError('NOT_FOUND', `no release pages under ${site}: expected <collection>/<version>/release.json`);
  const files: string[] = [];
  for (const c of index.collections) {
    await mkdir(join(site, c.name, LATEST), { recursive: true });
    const newest = index.releases.find((r) => r.collection === c.name)!;
    await writeFileAtomic(join(site, c.name, LATEST, 'index.html'), renderLatest({ collection: c.name, version: newest.version, href: `../${encodeURIComponent(newest.dir)}/` }));
    files.push(`${c.name}/${LATEST}/index.html`);
  }
  await writeFileAtomic(join(site, 'index.html'), renderSiteIndex(index));
  files.push('index.html');
  return { index, files };
}
