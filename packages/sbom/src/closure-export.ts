/**
 * Reads the closure JSON the Nix side exports for one image (core's
 * ClosureExport) and checks it strictly: the SBOM must never be built from a
 * truncated file, an unbuilt path or a closure that is not closed.
 */
import { type ClosureExport, type ClosurePath, type DerivationInfo, type ImageMetadata, ReleaseError } from '@nixrel/core';
import { sha256Bytes } from './nix-hash.js';
import { isStorePath } from './store-path.js';

type Json = Record<string, unknown>;

class ShapeError extends Error {}

function fail(where: string, what: string): never {
  throw new ShapeError(`${where}: ${what}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, where: string): Json {
  if (!isObject(v)) fail(where, `expected an object, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 80))}` : `${typeof v} ${String(v)}`;
}

function string(v: unknown, where: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${describe(v)}`);
  if (opts.nonEmpty && v.trim() === '') fail(where, 'must not be empty');
  return v;
}

function optionalString(v: unknown, where: string): string | undefined {
  return v === undefined || v === null ? undefined : string(v, where);
}

function stringArray(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) fail(where, `expected an array of strings, got ${describe(v)}`);
  return v.map((x, i) => string(x, `${where}[${i}]`));
}

function storePath(v: unknown, where: string): string {
  const s = string(v, where);
  if (!isStorePath(s)) fail(where, `${JSON.stringify(s)} is not a store path`);
  return s;
}

function metadata(v: unknown, where: string): ImageMetadata {
  const o = object(v, where);
  const out: ImageMetadata = {
    title: string(o['title'], `${where}.title`),
    description: string(o['description'], `${where}.description`),
  };
  for (const key of ['licenses', 'vendor', 'homepage', 'source'] as const) {
    const value = optionalString(o[key], `${where}.${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function closurePath(v: unknown, where: string): ClosurePath {
  const o = object(v, where);
  const path = storePath(o['path'], `${where}.path`);
  const at = `${where} (${path})`;
  if (o['valid'] === false) fail(at, 'is not valid in the Nix store (not built): build it before generating the SBOM');
  if (o['valid'] !== undefined && typeof o['valid'] !== 'boolean') fail(`${at}.valid`, `expected a boolean, got ${describe(o['valid'])}`);
  const references = stringArray(o['references'], `${at}.references`);
  references.forEach((r, i) => {
    storePath(r, `${at}.references[${i}]`);
  });
  const narHash = string(o['narHash'], `${at}.narHash`);
  try {
    sha256Bytes(narHash);
  } catch (e) {
    fail(`${at}.narHash`, (e as Error).message);
  }
  const narSize = o['narSize'];
  if (typeof narSize !== 'number' || !Number.isSafeInteger(narSize) || narSize < 0) {
    fail(`${at}.narSize`, `expected a non-negative integer, got ${describe(narSize)}`);
  }
  const deriver = optionalString(o['deriver'], `${at}.deriver`);
  const out: ClosurePath = { path, references: [...new Set(references)], narHash, narSize };
  if (deriver !== undefined) out.deriver = deriver;
  if (o['valid'] === true) out.valid = true;
  return out;
}

function stringOrStrings(v: unknown, where: string): string | string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? stringArray(v, where) : string(v, where);
}

function licence(v: unknown, where: string): DerivationInfo['meta']['license'] {
  if (v === undefined || v === null) return undefined;
  const one = (x: unknown, at: string) => {
    if (typeof x === 'string') return x;
    const o = object(x, at);
    const l: Record<string, unknown> = {};
    for (const key of ['spdxId', 'shortName', 'fullName', 'url'] as const) {
      const value = optionalString(o[key], `${at}.${key}`);
      if (value !== undefined) l[key] = value;
    }
    if (typeof o['free'] === 'boolean') l['free'] = o['free'];
    return l;
  };
  if (Array.isArray(v)) return v.map((x, i) => one(x, `${where}[${i}]`)) as DerivationInfo['meta']['license'];
  return one(v, where) as DerivationInfo['meta']['license'];
}

function derivation(v: unknown, where: string): DerivationInfo {
  const o = object(v, where);
  const name = string(o['name'], `${where}.name`, { nonEmpty: true });
  const at = `${where} (${name})`;
  const outputsJson = object(o['outputs'], `${at}.outputs`);
  const outputs: Record<string, string> = {};
  for (const [output, path] of Object.entries(outputsJson)) outputs[output] = storePath(path, `${at}.outputs.${output}`);
  const metaJson = o['meta'] === undefined || o['meta'] === null ? {} : object(o['meta'], `${at}.meta`);
  const meta: DerivationInfo['meta'] = {};
  const description = optionalString(metaJson['description'], `${at}.meta.description`);
  if (description !== undefined) meta.description = description;
  const homepage = stringOrStrings(metaJson['homepage'], `${at}.meta.homepage`);
  if (homepage !== undefined) meta.homepage = homepage;
  const license = licence(metaJson['license'], `${at}.meta.license`);
  if (license !== undefined) meta.license = license;
  if (metaJson['identifiers'] !== undefined && metaJson['identifiers'] !== null) {
    const ids = object(metaJson['identifiers'], `${at}.meta.identifiers`);
    meta.identifiers = {};
    const cpe = optionalString(ids['cpe'], `${at}.meta.identifiers.cpe`);
    const purl = optionalString(ids['purl'], `${at}.meta.identifiers.purl`);
    if (cpe !== undefined) meta.identifiers.cpe = cpe;
    if (purl !== undefined) meta.identifiers.purl = purl;
    if (ids['purls'] !== undefined && ids['purls'] !== null) meta.identifiers.purls = stringArray(ids['purls'], `${at}.meta.identifiers.purls`);
  }
  if (metaJson['maintainers'] !== undefined && metaJson['maintainers'] !== null) {
    meta.maintainers = stringArray(metaJson['maintainers'], `${at}.meta.maintainers`);
  }
  const out: DerivationInfo = { name, outputs, meta };
  const drvPath = optionalString(o['drvPath'], `${at}.drvPath`);
  const pname = optionalString(o['pname'], `${at}.pname`);
  const version = optionalString(o['version'], `${at}.version`);
  if (drvPath !== undefined) out.drvPath = drvPath;
  if (pname !== undefined) out.pname = pname;
  if (version !== undefined) out.version = version;
  if (o['src'] !== undefined && o['src'] !== null) {
    const s = object(o['src'], `${at}.src`);
    const src: NonNullable<DerivationInfo['src']> = { urls: s['urls'] === undefined ? [] : stringArray(s['urls'], `${at}.src.urls`) };
    for (const key of ['hash', 'rev', 'owner', 'repo'] as const) {
      const value = optionalString(s[key], `${at}.src.${key}`);
      if (value !== undefined) src[key] = value;
    }
    out.src = src;
  }
  if (o['patches'] !== undefined && o['patches'] !== null) out.patches = stringArray(o['patches'], `${at}.patches`);
  return out;
}

function checkShape(doc: unknown): ClosureExport {
  const top = object(doc, 'document');
  if (top['version'] !== 1) fail('version', `unsupported format version ${describe(top['version'])}, expected 1`);
  const image = object(top['image'], 'image');
  const roots = stringArray(image['roots'], 'image.roots').map((r, i) => storePath(r, `image.roots[${i}]`));
  if (roots.length === 0) fail('image.roots', 'must list at least one store path');
  if (!Array.isArray(top['paths'])) fail('paths', `expected an array, got ${describe(top['paths'])}`);
  if (!Array.isArray(top['derivations'])) fail('derivations', `expected an array, got ${describe(top['derivations'])}`);

  const byPath = new Map<string, ClosurePath>();
  top['paths'].forEach((p, i) => {
    const entry = closurePath(p, `paths[${i}]`);
    const seen = byPath.get(entry.path);
    if (seen && JSON.stringify(seen) !== JSON.stringify(entry)) {
      fail(`paths[${i}] (${entry.path})`, 'listed twice with different data');
    }
    byPath.set(entry.path, entry);
  });
  for (const entry of byPath.values()) {
    for (const ref of entry.references) {
      if (!byPath.has(ref)) fail(`paths (${entry.path})`, `references ${ref}, which is not in the closure`);
    }
  }
  for (const root of roots) {
    if (!byPath.has(root)) fail('image.roots', `${root} is not in the closure`);
  }
  return {
    version: 1,
    image: {
      name: string(image['name'], 'image.name', { nonEmpty: true }),
      version: string(image['version'], 'image.version'),
      metadata: metadata(image['metadata'], 'image.metadata'),
      roots: [...new Set(roots)],
    },
    paths: [...byPath.values()],
    derivations: top['derivations'].map((d, i) => derivation(d, `derivations[${i}]`)),
  };
}

/** Parses and checks a closure export; every problem is an INVALID_INPUT naming `source` and the offending entry. */
export function parseClosureExport(json: string, source: string): ClosureExport {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `closure export ${source} is not valid JSON (truncated or malformed): ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return checkShape(doc);
  } catch (e) {
    if (e instanceof ShapeError) throw new ReleaseError('INVALID_INPUT', `closure export ${source}: ${e.message}`);
    throw e;
  }
}
