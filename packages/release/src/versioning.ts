import { assertTag, ReleaseError } from '@nixrel/core';

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
