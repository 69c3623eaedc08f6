/**
 * CycloneDX 1.6 JSON validation with the schema the cyclonedx library ships,
 * without its O(n^2) cost.
 *
 * The library's JsonStrictValidator compiles the schema with ajv as is. ajv
 * checks `uniqueItems` on arrays of objects by deep-comparing every pair of
 * items, which takes seconds on a few thousand components. Here every
 * `uniqueItems: true` is replaced by the keyword `uniqueItemsCanonical`, checked
 * in one pass: each item is written as canonical JSON (object keys sorted) and
 * looked up in a Set. Two JSON values are deep-equal exactly when their
 * canonical texts are equal (same keys, same values; arrays keep their order;
 * JSON numbers print one way), so the keyword accepts and rejects the same
 * documents as `uniqueItems`, at the same schema locations, in O(total size).
 * Every other keyword, format and option is the library's.
 *
 * On top of the schema, bom-refs must be unique and dependencies must refer to
 * bom-refs of the document (rules of the CycloneDX specification that its
 * JSON Schema cannot express).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReleaseError } from '@nixrel/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import addFormats2019Module from 'ajv-formats-draft2019';

const require = createRequire(import.meta.url);
const SCHEMA_DIR = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');

// Both plugins are CommonJS; under NodeNext the default import may be the module object.
type Plugin = (ajv: Ajv, options?: unknown) => Ajv;
const unwrap = (m: unknown): Plugin => ((m as { default?: Plugin }).default ?? m) as Plugin;
const addFormats = unwrap(addFormatsModule);
const addFormats2019 = unwrap(addFormats2019Module);

/** Canonical JSON: object keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Index pair of the first duplicate, as ajv reports it for uniqueItems, or undefined. */
export function firstDuplicate(items: unknown[]): { i: number; j: number } | undefined {
  const seen = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const key = canonicalJson(items[i]);
    const j = seen.get(key);
    if (j !== undefined) return { i, j };
    seen.set(key, i);
  }
  return undefined;
}

function withFastUniqueItems(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withFastUniqueItems);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'uniqueItems') {
      if (v === true) out['uniqueItemsCanonical'] = true;
    } else {
      out[k] = withFastUniqueItems(v);
    }
  }
  return out;
}

function readSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
}

let compiled: ValidateFunction | undefined;

/** The 1.6 schema compiled once per process with the same ajv options as the library. */
export function compiledSchema(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    loadSchema: (uri: string) => {
      throw new Error(`remote schemas are disabled: ${uri}`);
    },
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': withFastUniqueItems(readSchema('spdx.SNAPSHOT.schema.json')),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': withFastUniqueItems(
        readSchema('cryptography-defs.SNAPSHOT.schema.json'),
      ),
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': withFastUniqueItems(readSchema('jsf-0.82.SNAPSHOT.schema.json')),
    } as Record<string, object>,
  });
  addFormats(ajv);
  addFormats2019(ajv, { formats: ['idn-email'] });
  // As in the library: no working implementation of iri-reference exists for ajv.
  ajv.addFormat('iri-reference', true);
  ajv.addKeyword({
    keyword: 'uniqueItemsCanonical',
    type: 'array',
    schemaType: 'boolean',
    errors: true,
    validate: function uniqueItemsCanonical(this: unknown, enabled: boolean, data: unknown[]) {
      const self = uniqueItemsCanonical as unknown as { errors?: Partial<ErrorObject>[] };
      if (!enabled) return true;
      const dup = firstDuplicate(data);
      if (!dup) return true;
      self.errors = [
        {
          keyword: 'uniqueItems',
          params: dup,
          message: `must NOT have duplicate items (items ## ${dup.j} and ${dup.i} are identical)`,
        },
      ];
      return false;
    },
  });
  compiled = ajv.compile(withFastUniqueItems(readSchema('bom-1.6.SNAPSHOT.schema.json')) as object);
  return compiled;
}

/** bom-refs unique and every dependency edge between known refs. */
export function referenceErrors(doc: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const refs = new Set<string>();
  const note = (ref: unknown, where: string) => {
    if (typeof ref !== 'string') return;
    if (refs.has(ref)) errors.push(`${where}: bom-ref ${JSON.stringify(ref)} is not unique`);
    refs.add(ref);
  };
  const metadata = doc['metadata'] as { component?: { 'bom-ref'?: string } } | undefined;
  note(metadata?.component?.['bom-ref'], '/metadata/component');
  const walk = (components: unknown, where: string) => {
    if (!Array.isArray(components)) return;
    components.forEach((c: Record<string, unknown>, i) => {
      note(c['bom-ref'], `${where}/${i}`);
      walk(c['components'], `${where}/${i}/components`);
    });
  };
  walk(doc['components'], '/components');
  const deps = doc['dependencies'];
  if (Array.isArray(deps)) {
    deps.forEach((d: { ref?: string; dependsOn?: string[] }, i) => {
      if (d.ref !== undefined && !refs.has(d.ref)) errors.push(`/dependencies/${i}/ref: ${JSON.stringify(d.ref)} is no bom-ref of this document`);
      for (const [k, on] of (d.dependsOn ?? []).entries()) {
        if (!refs.has(on)) errors.push(`/dependencies/${i}/dependsOn/${k}: ${JSON.stringify(on)} is no bom-ref of this document`);
      }
    });
  }
  return errors;
}

const MAX_DETAILS = 50;

function formatError(e: ErrorObject): string {
  const params = e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : '';
  return `${e.instancePath || '/'}: ${e.message ?? e.keyword}${params}`;
}

/** Throws SBOM_INVALID with the validator's errors as details; resolves when the document is valid. */
export async function validateBom(json: string): Promise<void> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new ReleaseError('SBOM_INVALID', `SBOM is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ReleaseError('SBOM_INVALID', 'SBOM is not a JSON object');
  }
  if ((doc as Record<string, unknown>)['specVersion'] !== '1.6') {
    throw new ReleaseError('SBOM_INVALID', `SBOM specVersion is ${JSON.stringify((doc as Record<string, unknown>)['specVersion'])}, expected "1.6"`);
  }
  const validate = compiledSchema();
  const details = validate(doc) ? [] : (validate.errors ?? []).map(formatError);
  if (details.length === 0) details.push(...referenceErrors(doc as Record<string, unknown>));
  if (details.length > 0) {
    const shown = details.slice(0, MAX_DETAILS);
    if (details.length > MAX_DETAILS) shown.push(`... and ${details.length - MAX_DETAILS} more`);
    throw new ReleaseError('SBOM_INVALID', `SBOM fails CycloneDX 1.6 validation (${details.length} error${details.length === 1 ? '' : 's'})`, {
      details: shown,
    });
  }
}
