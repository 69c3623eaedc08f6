import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ReleaseError } from './errors.js';

/** Absolute path of the published JSON Schema for release.json; its `$defs` also describe the state files. */
export const RELEASE_MANIFEST_SCHEMA_PATH = new URL('../schema/release-manifest.schema.json', import.meta.url).pathname;
const MANIFEST_ID = 'https://github.com/wellmaintained/packages/schema/release-manifest.schema.json';

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** A validator for a schema of the project, by `$id` or `$id#/$defs/<name>`, compiled once. */
function validatorFor(ref: string): ValidateFunction {
  if (!ajv) {
    // Compiled in every process that reads a state file: unoptimised code compiles 2-3x faster,
    // and the documents checked are small enough that validating them takes no measurable time.
    ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, code: { optimize: false } });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(readFileSync(RELEASE_MANIFEST_SCHEMA_PATH, 'utf8')));
  }
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.getSchema(ref);
    if (!validate) throw new ReleaseError('INTERNAL', `no schema ${ref}`);
    compiled.set(ref, validate);
  }
  return validate;
}

/** Registers a schema given inline (a small file format) under its `$id`. */
export function schemaRef(schema: { $id: string }): string {
  validatorFor(MANIFEST_ID);
  if (!ajv!.getSchema(schema.$id)) ajv!.addSchema(schema);
  return schema.$id;
}

export const MANIFEST_SCHEMA = MANIFEST_ID;
export const IMAGE_RECORD_SCHEMA = `${MANIFEST_ID}#/$defs/image`;

/** Errors of `data` against a schema, as `<field>: <message>` lines (`/` for the document itself). */
export function schemaErrors(ref: string, data: unknown): string[] {
  const validate = validatorFor(ref);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => {
    const params = e.params as { additionalProperty?: string; allowedValue?: unknown; allowedValues?: unknown[] };
    const extra =
      e.keyword === 'additionalProperties'
        ? ` "${params.additionalProperty}"`
        : e.keyword === 'const'
          ? ` ${JSON.stringify(params.allowedValue)}`
          : e.keyword === 'enum'
            ? ` (${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')})`
            : '';
    return `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${extra}`;
  });
}

/**
 * Returns `data` typed, or throws SCHEMA_INVALID naming `source` (the file)
 * and the first field at fault, every error in the details, and `fix` (how to
 * recover) when given.
 */
export function assertSchema<T>(ref: string, data: unknown, source: string, fix?: string): T {
  const errors = schemaErrors(ref, data);
  if (errors.length > 0) {
    throw new ReleaseError('SCHEMA_INVALID', `${source} is not valid: ${errors[0]}${fix ? `; ${fix}` : ''}`, { details: errors });
  }
  return data as T;
}
