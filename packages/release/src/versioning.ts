import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertTag, type ImageSpec, ReleaseError } from '@nixrel/core';
import { listTags } from '@nixrel/oci';
import { imageRepository, type ReleaseBase } from './release-context.js';
import { gitTags } from './source.js';
import { readPointer } from './state.js';

/** Tag given to an image when it is first built: `<name>-<upstream-version>-<sha7>`. */
export function componentTag(name: string, upstreamVersion: string, commit: string): string {
  // Upstream versions may carry characters a tag cannot (`+`, `~`): map them to `_`.
  const version = upstreamVersion.replace(/[^A-Za-z0-9._-]/g, '_');
  const tag = `${name}-${version}-${commit.slice(0, 7)}`;
  assertTag(tag);
  return tag;
}

export function releaseDay(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

/** Prefix shared by every build of one day: `<collection>-v<app-version>-<YYYYMMDD>.` */
export function versionPrefix(collection: string, appVersion: string, date: Date): string {
  return `${collection}-v${appVersion}-${releaseDay(date)}.`;
}

/**
 * `<collection>-v<app-version>-<YYYYMMDD>.<n>` with n the next free build number of
 * that day, counting every tag already taken (git tags and registry tags alike).
 */
export function nextCollectionVersion(collection: string, appVersion: string, date: Date, taken: Iterable<string>): string {
  const prefix = versionPrefix(collection, appVersion, date);
  let highest = 0;
  for (const tag of taken) {
    if (!tag.startsWith(prefix)) continue;
    const n = Number(tag.slice(prefix.length));
    if (Number.isInteger(n) && n > highest) highest = n;
  }
  const version = `${prefix}${highest + 1}`;
  assertTag(version);
  return version;
}

export function assertVersion(version: string): void {
  try {
    assertTag(version);
  } catch {
    throw new ReleaseError('INVALID_INPUT', `invalid --version "${version}": it becomes a tag, so 1-128 characters of [A-Za-z0-9_.-]`);
  }
}

/**
 * The version of a release. The same commit with the same images is the same
 * release: its version is reused, so a killed or repeated run resumes instead
 * of starting another. Otherwise the next free build number of the day,
 * counting git tags and the tags already in the registry.
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
