/**
 * At release time: the release names its predecessor (the newest earlier
 * release of the same collection kept in the state directory) and stores the
 * diff against it as diff.json next to release.json, where the page reads it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReleaseDiff, ReleaseManifest } from '@nixrel/core';
import { sha256Digest, toJson, writeFileAtomic } from '@nixrel/core';
import { loadReleaseFile, releaseInDirectory } from './release-contents.js';
import { diffReleases } from './release-diff.js';
import { keptReleases, predecessorOf } from './release-history.js';

export const DIFF_FILE = 'diff.json';

/**
 * Writes `<releaseDir>/diff.json` against the predecessor and returns the
 * manifest's `previous` field; undefined for the first release kept here.
 * A re-run that finds the same changes keeps the file as it was, so the
 * manifest (which records its digest) stays the same too.
 */
export async function recordDiff(stateRoot: string, releaseDir: string, manifest: ReleaseManifest): Promise<ReleaseManifest['previous']> {
  const predecessor = predecessorOf(await keptReleases(stateRoot), manifest.collection, manifest.version, manifest.date);
  if (!predecessor) return undefined;
  const diff = diffReleases(await loadReleaseFile(predecessor.manifestPath), await releaseInDirectory(manifest, releaseDir));
  const path = join(releaseDir, DIFF_FILE);
  let text = toJson(diff);
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    // Only the date of this release may differ between runs: keep what is recorded.
    const keptDate = (() => {
      try {
        return (JSON.parse(existing) as ReleaseDiff).to?.date;
      } catch {
        return undefined; // unreadable: rewritten below
      }
    })();
    if (toJson({ ...diff, to: { ...diff.to, date: keptDate } }) === existing) text = existing;
  }
  if (text !== existing) await writeFileAtomic(path, text);
  return { version: predecessor.version, diff: { path: DIFF_FILE, digest: sha256Digest(text) } };
}
