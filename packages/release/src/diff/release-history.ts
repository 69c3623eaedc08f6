/**
 * The releases kept in the state directory (`.release/<version>/release.json`)
 * and how a command-line argument names one: a release.json file, an audit
 * pack, or a version in the state directory.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ReleaseError } from '@nixrel/core';
import { loadReleaseFile, loadReleasePack, type ReleaseContents } from './release-contents.js';

export interface KeptRelease {
  collection: string;
  version: string;
  date: string;
  manifestPath: string;
}

/** Every finished release in the state directory, oldest first. */
export async function keptReleases(stateRoot: string): Promise<KeptRelease[]> {
  let names: string[];
  try {
    names = await readdir(stateRoot);
  } catch {
    return [];
  }
  const kept: KeptRelease[] = [];
  for (const name of names) {
    const manifestPath = join(stateRoot, name, 'release.json');
    let data: { collection?: unknown; version?: unknown; date?: unknown };
    try {
      data = JSON.parse(await readFile(manifestPath, 'utf8'));
    } catch {
      continue; // not a finished release
    }
    if (typeof data.collection === 'string' && typeof data.version === 'string' && typeof data.date === 'string') {
      kept.push({ collection: data.collection, version: data.version, date: data.date, manifestPath });
    }
  }
  return kept.sort((a, b) => a.date.localeCompare(b.date) || a.version.localeCompare(b.version));
}

/** The newest kept release of `collection` older than `version`. */
export function predecessorOf(kept: KeptRelease[], collection: string, version: string, date: string): KeptRelease | undefined {
  return kept.filter((r) => r.collection === collection && r.version !== version && r.date <= date).at(-1);
}

/** Opens what the user named: a `.audit.tar.gz`, a release.json (or its directory), or a version kept in the state directory. */
export async function openRelease(arg: string, cwd: string, stateRoot: string): Promise<ReleaseContents> {
  const path = resolve(cwd, arg);
  if (arg.endsWith('.tar.gz') || arg.endsWith('.tgz')) return loadReleasePack(path);
  if (arg.endsWith('.json')) return loadReleaseFile(path);
  if (existsSync(join(path, 'release.json'))) return loadReleaseFile(join(path, 'release.json'));
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(arg) && existsSync(join(stateRoot, arg, 'release.json'))) return loadReleaseFile(join(stateRoot, arg, 'release.json'));
  throw new ReleaseError('NOT_FOUND', `no release "${arg}": give a release.json, an audit pack (.audit.tar.gz) or a version in ${stateRoot}`);
}
