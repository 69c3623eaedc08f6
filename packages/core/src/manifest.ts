import { ReleaseError } from './errors.js';
import { MANIFEST_SCHEMA, schemaErrors } from './schema.js';
import type { ReleaseManifest } from './types.js';

export { RELEASE_MANIFEST_SCHEMA_PATH } from './schema.js';

/** Errors of `data` against the release manifest schema, as `path: message` lines. */
export function manifestSchemaErrors(data: unknown): string[] {
  return schemaErrors(MANIFEST_SCHEMA, data);
}

/** Returns `data` typed as a ReleaseManifest, or throws SCHEMA_INVALID with every error. */
export function validateManifest(data: unknown, source = 'release manifest'): ReleaseManifest {
  const errors = manifestSchemaErrors(data);
  if (errors.length > 0) {
    throw new ReleaseError('SCHEMA_INVALID', `${source} does not match the release manifest schema`, { details: errors });
  }
  return data as ReleaseManifest;
}
