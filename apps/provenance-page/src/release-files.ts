/**
 * The files the page links to (SBOMs, provenance, bundles, public key) live
 * next to release.json; paths in the manifest are relative to its directory.
 * They are checked before anything is written: each must stay inside that
 * directory (symlinks included), exist, and match the digest the manifest
 * records for it, so the page never links a file it cannot vouch for.
 */
import { copyFile, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ReleaseManifest } from '@nixrel/core';
import { RELEASE_MANIFEST_SCHEMA_PATH, ReleaseError, sha256File } from '@nixrel/core';

export type LinkedFileKind = 'sbom' | 'provenance' | 'bundle' | 'public-key' | 'diff';

export interface LinkedFile {
  /** Path relative to the manifest's directory, and to the output directory. */
  path: string;
  kind: LinkedFileKind;
  /** Digest the manifest records for the file, when it records one. */
  digest?: string;
  /** Where in the manifest the path was found, for error messages. */
  field: string;
}

/** Names the page writes itself; a manifest path may not take them. */
export const PAGE_FILES = {
  html: 'index.html',
  markdown: 'provenance.md',
  manifest: 'release.json',
  schema: 'release-manifest.schema.json',
  summary: 'page.json',
} as const;

const RESERVED = new Set<string>(Object.values(PAGE_FILES));

/** Every file the manifest references, each path once. */
export function linkedFiles(manifest: ReleaseManifest): LinkedFile[] {
  const files: LinkedFile[] = [];
  manifest.images.forEach((image, i) => {
    if (image.sbom) files.push({ path: image.sbom.path, kind: 'sbom', digest: image.sbom.digest, field: `/images/${i}/sbom/path` });
    if (image.provenance) {
      files.push({ path: image.provenance.path, kind: 'provenance', digest: image.provenance.digest, field: `/images/${i}/provenance/path` });
    }
    image.attestations.forEach((a, j) => {
      files.push({ path: a.bundlePath, kind: 'bundle', digest: a.bundleDigest, field: `/images/${i}/attestations/${j}/bundlePath` });
    });
  });
  if (manifest.signer.publicKeyPath) files.push({ path: manifest.signer.publicKeyPath, kind: 'public-key', field: '/signer/publicKeyPath' });
  const diff = manifest.previous?.diff;
  if (diff) files.push({ path: diff.path, kind: 'diff', digest: diff.digest, field: '/previous/diff/path' });
  const seen = new Map<string, LinkedFile>();
  for (const f of files) {
    const prior = seen.get(f.path);
    if (prior?.digest && f.digest && prior.digest !== f.digest) {
      throw new ReleaseError('INVALID_INPUT', `release manifest gives ${f.path} two digests (${prior.field} and ${f.field})`);
    }
    if (!prior) seen.set(f.path, f);
  }
  return [...seen.values()];
}

function inside(base: string, target: string): boolean {
  const rel = relative(base, target);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Resolves a manifest path under `baseDir`, refusing anything that leaves it. */
export async function resolveLinkedFile(baseDir: string, file: LinkedFile, manifestPath: string): Promise<string> {
  const where = `${file.field} in ${manifestPath}`;
  if (isAbsolute(file.path) || file.path.includes('\\') || !inside(baseDir, resolve(baseDir, file.path))) {
    throw new ReleaseError('INVALID_INPUT', `path "${file.path}" (${where}) escapes the manifest's directory ${baseDir}`);
  }
  if (RESERVED.has(file.path)) {
    throw new ReleaseError('INVALID_INPUT', `path "${file.path}" (${where}) collides with a file the page writes itself`);
  }
  const full = resolve(baseDir, file.path);
  let real: string;
  try {
    real = await realpath(full);
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `file "${file.path}" named by ${where} not found`, { cause: e });
  }
  if (!inside(await realpath(baseDir), real)) {
    throw new ReleaseError('INVALID_INPUT', `path "${file.path}" (${where}) resolves outside the manifest's directory (symbolic link)`);
  }
  const info = await stat(real);
  if (!info.isFile()) throw new ReleaseError('INVALID_INPUT', `path "${file.path}" (${where}) is not a regular file`);
  return real;
}

export interface CheckedFile extends LinkedFile {
  source: string;
}

/** Resolves every linked file and checks its digest; throws before anything is written. */
export async function checkLinkedFiles(manifestPath: string, manifest: ReleaseManifest): Promise<CheckedFile[]> {
  const baseDir = dirname(resolve(manifestPath));
  const checked: CheckedFile[] = [];
  for (const file of linkedFiles(manifest)) {
    const source = await resolveLinkedFile(baseDir, file, manifestPath);
    if (file.digest) {
      const { digest } = await sha256File(source);
      if (digest !== file.digest) {
        throw new ReleaseError('DIGEST_MISMATCH', `file "${file.path}" (${file.field} in ${manifestPath}) has digest ${digest}, the manifest records ${file.digest}`);
      }
    }
    checked.push({ ...file, source });
  }
  return checked;
}

/** Copies release.json, its JSON Schema and every linked file into outDir; returns the paths written. */
export async function copyReleaseFiles(manifestPath: string, files: CheckedFile[], outDir: string): Promise<string[]> {
  const written: string[] = [];
  const copy = async (source: string, rel: string) => {
    const dest = join(outDir, rel);
    await mkdir(dirname(dest), { recursive: true });
    // Rendering into the manifest's own directory: the file is already there.
    if (resolve(source) !== resolve(dest)) await copyFile(source, dest);
    written.push(rel);
  };
  await copy(resolve(manifestPath), PAGE_FILES.manifest);
  await copy(RELEASE_MANIFEST_SCHEMA_PATH, PAGE_FILES.schema);
  for (const f of files) await copy(f.source, f.path);
  return written;
}
