/**
 * Reads the closure JSON the Nix side exports for one image (core's
 * ClosureExport) and checks it strictly: the SBOM must never be built from a
 * truncated file, an unbuilt path or a closure that is not closed. The shape
 * is checked by a JSON Schema; what a schema cannot say (hashes that decode,
 * a closed closure, built paths) by the code below it.
 */
import { type ClosureExport, type ClosurePath, type DerivationInfo, type ImageMetadata, ReleaseError, schemaErrors, schemaRef } from '@nixrel/core';
import { sha256Bytes } from './nix-hash.js';

const STRING = { type: 'string' } as const;
const OPTIONAL_STRING = { type: ['string', 'null'] } as const;
const STRINGS = { type: 'array', items: STRING } as const;
const OPTIONAL_STRINGS = { type: ['array', 'null'], items: STRING } as const;
const STORE_PATH = { type: 'string', pattern: '^/[^\\u0000]*/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+$' } as const;
const LICENCE = {
  anyOf: [
    STRING,
    {
      type: 'object',
      properties: { spdxId: OPTIONAL_STRING, shortName: OPTIONAL_STRING, fullName: OPTIONAL_STRING, url: OPTIONAL_STRING, free: {} },
    },
  ],
} as const;

/** Version 1 of the closure export. Unknown fields are allowed (and dropped): Nix adds some between versions. */
const CLOSURE_EXPORT_SCHEMA = {
  $id: 'https://github.com/wellmaintained/packages/schema/closure-export.schema.json',
  type: 'object',
  required: ['version', 'image', 'paths', 'derivations'],
  properties: {
    version: { const: 1 },
    image: {
      type: 'object',
      required: ['name', 'version', 'metadata', 'roots'],
      properties: {
        name: { type: 'string', minLength: 1 },
        version: STRING,
        metadata: {
          type: 'object',
          required: ['title', 'description'],
          properties: { title: STRING, description: STRING, licenses: OPTIONAL_STRING, vendor: OPTIONAL_STRING, homepage: OPTIONAL_STRING, source: OPTIONAL_STRING },
        },
        roots: { type: 'array', minItems: 1, items: STORE_PATH },
      },
    },
    paths: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'references', 'narHash', 'narSize'],
        properties: {
          path: STORE_PATH,
          references: { type: 'array', items: STORE_PATH },
          narHash: STRING,
          narSize: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          deriver: OPTIONAL_STRING,
          valid: { type: 'boolean' },
        },
      },
    },
    derivations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'outputs'],
        properties: {
          name: { type: 'string', pattern: '\\S' },
          outputs: { type: 'object', additionalProperties: STORE_PATH },
          drvPath: OPTIONAL_STRING,
          pname: OPTIONAL_STRING,
          version: OPTIONAL_STRING,
          meta: {
            type: ['object', 'null'],
            properties: {
              description: OPTIONAL_STRING,
              homepage: { type: ['string', 'array', 'null'], items: STRING },
              license: { anyOf: [LICENCE, { type: 'array', items: LICENCE }, { type: 'null' }] },
              identifiers: { type: ['object', 'null'], properties: { cpe: OPTIONAL_STRING, purl: OPTIONAL_STRING, purls: OPTIONAL_STRINGS } },
              maintainers: OPTIONAL_STRINGS,
            },
          },
          src: {
            type: ['object', 'null'],
            properties: { urls: STRINGS, hash: OPTIONAL_STRING, rev: OPTIONAL_STRING, owner: OPTIONAL_STRING, repo: OPTIONAL_STRING },
          },
          patches: OPTIONAL_STRINGS,
        },
      },
    },
  },
} as const;

type Json = Record<string, unknown>;

/** `/paths/1/narHash` -> `paths[1] (<its store path>).narHash`: the entry named as a reader finds it in the file. */
function location(pointer: string, doc: unknown): string {
  let at = 'document';
  let node: unknown = doc;
  for (const part of pointer.split('/').slice(1)) {
    const isIndex = Array.isArray(node);
    node = (node as Json | undefined)?.[part];
    at = at === 'document' ? part : isIndex ? `${at}[${part}]` : `${at}.${part}`;
    const entry = node as Json | undefined;
    if (isIndex && entry && typeof entry === 'object') {
      const label = typeof entry['path'] === 'string' ? entry['path'] : typeof entry['name'] === 'string' ? entry['name'] : undefined;
      if (label) at += ` (${label})`;
    }
  }
  return at;
}

/** Present values only: the export writes null for what Nix does not know. */
function present<T extends Json>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };
}

function pick(o: Json | null | undefined, keys: readonly string[]): Json {
  return present(Object.fromEntries(keys.map((k) => [k, o?.[k]])));
}

type RawPath = ClosurePath & { deriver?: string | null };
type RawDerivation = Omit<DerivationInfo, 'meta'> & { meta?: Json | null; src?: Json | null } & Json;

function licenceOf(l: unknown): unknown {
  return typeof l === 'string' ? l : pick(l as Json, ['spdxId', 'shortName', 'fullName', 'url', 'free']);
}

/** The typed derivation: known fields only, nulls dropped. */
function derivationOf(d: RawDerivation): DerivationInfo {
  const meta = d.meta ?? {};
  const license = meta['license'];
  const identifiers = meta['identifiers'] as Json | null | undefined;
  return present({
    ...pick(d, ['drvPath', 'name', 'pname', 'version', 'patches']),
    outputs: d.outputs,
    meta: present({
      ...pick(meta, ['description', 'homepage', 'maintainers']),
      license: license === null || license === undefined ? undefined : Array.isArray(license) ? license.map(licenceOf) : licenceOf(license),
      identifiers: identifiers ? pick(identifiers, ['cpe', 'purl', 'purls']) : undefined,
    }),
    src: d.src ? { urls: (d.src['urls'] as string[] | undefined) ?? [], ...pick(d.src, ['hash', 'rev', 'owner', 'repo']) } : undefined,
  }) as unknown as DerivationInfo;
}

/** What the schema cannot say: every path built, its hash decodable, the closure closed and holding the roots. */
function checkClosure(doc: { image: { roots: string[] }; paths: RawPath[] }): Map<string, ClosurePath> {
  const fail = (where: string, what: string): never => {
    throw new ReleaseError('INVALID_INPUT', `${where}: ${what}`);
  };
  const byPath = new Map<string, ClosurePath>();
  doc.paths.forEach((p, i) => {
    const at = `paths[${i}] (${p.path})`;
    if (p.valid === false) fail(at, 'is not valid in the Nix store (not built): build it before generating the SBOM');
    try {
      sha256Bytes(p.narHash);
    } catch (e) {
      fail(`${at}.narHash`, (e as Error).message);
    }
    const entry: ClosurePath = present({
      path: p.path,
      references: [...new Set(p.references)],
      narHash: p.narHash,
      narSize: p.narSize,
      deriver: p.deriver,
      valid: p.valid === true ? true : undefined,
    });
    const seen = byPath.get(entry.path);
    if (seen && JSON.stringify(seen) !== JSON.stringify(entry)) fail(at, 'listed twice with different data');
    byPath.set(entry.path, entry);
  });
  for (const entry of byPath.values()) {
    for (const ref of entry.references) if (!byPath.has(ref)) fail(`paths (${entry.path})`, `references ${ref}, which is not in the closure`);
  }
  for (const root of doc.image.roots) if (!byPath.has(root)) fail('image.roots', `${root} is not in the closure`);
  return byPath;
}

/** Parses and checks a closure export; every problem is an INVALID_INPUT naming `source` and the offending entry. */
export function parseClosureExport(json: string, source: string): ClosureExport {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `closure export ${source} is not valid JSON (truncated or malformed): ${(e as Error).message}`, { cause: e });
  }
  const errors = schemaErrors(schemaRef(CLOSURE_EXPORT_SCHEMA), doc);
  if (errors.length > 0) {
    const [pointer, message] = errors[0]!.split(/: (.*)/s) as [string, string];
    throw new ReleaseError('INVALID_INPUT', `closure export ${source}: ${location(pointer === '/' ? '' : pointer, doc)}: ${message}`, { details: errors });
  }
  const valid = doc as { image: ClosureExport['image'] & { metadata: Json }; paths: RawPath[]; derivations: RawDerivation[] };
  let byPath: Map<string, ClosurePath>;
  try {
    byPath = checkClosure(valid);
  } catch (e) {
    if (e instanceof ReleaseError) throw new ReleaseError(e.code, `closure export ${source}: ${e.message}`);
    throw e;
  }
  return {
    version: 1,
    image: {
      name: valid.image.name,
      version: valid.image.version,
      metadata: pick(valid.image.metadata, ['title', 'description', 'licenses', 'vendor', 'homepage', 'source']) as unknown as ImageMetadata,
      roots: [...new Set(valid.image.roots)],
    },
    paths: [...byPath.values()],
    derivations: valid.derivations.map(derivationOf),
  };
}
