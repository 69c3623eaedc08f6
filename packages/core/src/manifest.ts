import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ReleaseError } from './errors.js';
import type { ReleaseManifest } from './types.js';

/** Absolute path of the published JSON Schema for release.json. */
export const RELEASE_MANIFEST_SCHEMA_PATH = new URL('../schema/release-manifest.schema.json', import.meta.url).pathname;

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

let validator: ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

function compile() {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(RELEASE_MANIFEST_SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

/** Errors of `data` against the release manifest schema, as `path: message` lines. */
export function manifestSchemaErrors(data: unknown): string[] {
  const validate = compile();
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}

/** Returns `data` typed as a ReleaseManifest, or throws SCHEMA_INVALID with every error. */
export function validateManifest(data: unknown, source = 'release manifest'): ReleaseManifest {
  const errors = manifestSchemaErrors(data);
  if (errors.length > 0) {
    throw new ReleaseError('SCHEMA_INVALID', `${source} does not match the release manifest schema`, { details: errors });
  }
  return data as ReleaseManifest;
}
