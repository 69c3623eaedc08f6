/**
 * One side of a diff: release.json and the facts its SBOM and provenance
 * files hold, read from a release directory or from an audit pack. Every file
 * is checked against the digest release.json records before it is believed.
 */
import { readFile } from 'node:fs/promises';
import { dirname, posix, resolve } from 'node:path';
import type { ComponentRef, ReleaseManifest } from '@nixrel/core';
import { ReleaseError, sha256Digest, validateManifest } from '@nixrel/core';
import { readPack } from '../audit-pack.js';

export interface SbomFacts {
  components: ComponentRef[];
  /** Sum of the components' NAR sizes (`nix:narinfo:nar_size`), bytes. */
  closureSize: number;
}

export interface ImageContents {
  /** The SBOM's facts, or why there are none. */
  sbom: SbomFacts | string;
  /** flake.lock input name -> locked revision (or NAR hash), or why there are none. */
  flakeInputs: Map<string, string> | string;
}

export interface ReleaseContents {
  manifest: ReleaseManifest;
  /** Where it was read from, for messages. */
  source: string;
  images: Map<string, ImageContents>;
}

/** Reads a file by its path relative to release.json; undefined when absent. */
type ReadRelative = (path: string) => Promise<Buffer | undefined>;

function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sbomFacts(bom: unknown, what: string): SbomFacts {
  if (!isObject(bom) || !Array.isArray(bom.components)) throw new ReleaseError('INVALID_INPUT', `${what}: /components is not an array`);
  let closureSize = 0;
  const components = bom.components.map((c, i): ComponentRef => {
    if (!isObject(c) || typeof c.name !== 'string') throw new ReleaseError('INVALID_INPUT', `${what}: /components/${i}/name is not a string`);
    const ref: ComponentRef = { name: c.name };
    if (typeof c.version === 'string') ref.version = c.version;
    if (typeof c.purl === 'string') ref.purl = c.purl;
    const props = Array.isArray(c.properties) ? c.properties : [];
    const size = props.find((p) => isObject(p) && p.name === 'nix:narinfo:nar_size') as { value?: unknown } | undefined;
    if (size && typeof size.value === 'string' && /^\d+$/.test(size.value)) closureSize += Number(size.value);
    return ref;
  });
  return { components, closureSize };
}

/** `flake-input:<name>` resolvedDependencies of a SLSA v1 statement -> name -> revision or hash. */
export function flakeInputs(statement: unknown, what: string): Map<string, string> {
  const deps = isObject(statement) && isObject(statement.predicate) && isObject(statement.predicate.buildDefinition) ? statement.predicate.buildDefinition.resolvedDependencies : undefined;
  if (!Array.isArray(deps)) throw new ReleaseError('INVALID_INPUT', `${what}: /predicate/buildDefinition/resolvedDependencies is not an array`);
  const inputs = new Map<string, string>();
  for (const dep of deps) {
    if (!isObject(dep) || typeof dep.name !== 'string' || !dep.name.startsWith('flake-input:')) continue;
    const digest = isObject(dep.digest) ? dep.digest : {};
    const locked = typeof digest.gitCommit === 'string' ? digest.gitCommit : typeof digest.sha256 === 'string' ? `sha256:${digest.sha256}` : String(dep.uri ?? '');
    inputs.set(dep.name.slice('flake-input:'.length), locked);
  }
  return inputs;
}

async function checkedFile(read: ReadRelative, path: string, digest: string, what: string, source: string): Promise<Buffer | string> {
  const data = await read(path);
  if (!data) return `${what} ${path} is not in ${source}`;
  const actual = sha256Digest(data);
  if (actual !== digest) throw new ReleaseError('DIGEST_MISMATCH', `${what} ${path} in ${source} has digest ${actual}, release.json records ${digest}`);
  return data;
}

async function readContents(manifestData: Buffer, read: ReadRelative, source: string): Promise<ReleaseContents> {
  const manifest = validateManifest(parseJson(manifestData, `release manifest ${source}`), `release manifest ${source}`);
  return contentsOf(manifest, read, source);
}

async function contentsOf(manifest: ReleaseManifest, read: ReadRelative, source: string): Promise<ReleaseContents> {
  const images = new Map<string, ImageContents>();
  for (const image of manifest.images) {
    let sbom: ImageContents['sbom'] = `${image.name} has no SBOM in ${manifest.version}`;
    if (image.sbom) {
      const data = await checkedFile(read, image.sbom.path, image.sbom.digest, 'SBOM', source);
      sbom = typeof data === 'string' ? data : sbomFacts(parseJson(data, `SBOM ${image.sbom.path} in ${source}`), `SBOM ${image.sbom.path} in ${source}`);
    }
    let inputs: ImageContents['flakeInputs'] = `${image.name} has no provenance in ${manifest.version}`;
    if (image.provenance) {
      const data = await checkedFile(read, image.provenance.path, image.provenance.digest, 'provenance', source);
      const what = `provenance ${image.provenance.path} in ${source}`;
      inputs = typeof data === 'string' ? data : flakeInputs(parseJson(data, what), what);
    }
    images.set(image.name, { sbom, flakeInputs: inputs });
  }
  return { manifest, source, images };
}

/** A release.json file and the files next to it. */
export async function loadReleaseFile(manifestPath: string): Promise<ReleaseContents> {
  const path = resolve(manifestPath);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `release manifest not found: ${manifestPath}`, { cause: e });
  }
  return readContents(data, readBeside(dirname(path)), manifestPath);
}

/** Files by their path relative to `base`; nothing outside it. */
function readBeside(base: string): ReadRelative {
  return async (rel) => {
    if (posix.isAbsolute(rel) || rel.split('/').includes('..')) return undefined;
    return readFile(resolve(base, rel)).catch(() => undefined);
  };
}

/** A release being assembled: its manifest in memory, its files in `dir`. */
export function releaseInDirectory(manifest: ReleaseManifest, dir: string): Promise<ReleaseContents> {
  return contentsOf(manifest, readBeside(dir), dir);
}

/** An audit pack (`<version>.audit.tar.gz`): release.json at its top (or in one top directory) and the files it lists. */
export async function loadReleasePack(packPath: string): Promise<ReleaseContents> {
  const files = await readPack(packPath);
  const manifests = [...files.keys()].filter((p) => posix.basename(p) === 'release.json').sort((a, b) => a.split('/').length - b.split('/').length);
  const top = manifests[0];
  if (!top) throw new ReleaseError('INVALID_INPUT', `audit pack ${packPath} holds no release.json`);
  const base = posix.dirname(top);
  const read: ReadRelative = async (rel) => files.get(posix.normalize(base === '.' ? rel : `${base}/${rel}`));
  return readContents(files.get(top)!, read, packPath);
}
