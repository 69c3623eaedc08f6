/**
 * CycloneDX 1.6 JSON validation with the schema the cyclonedx library ships,
 * without its O(n^2) cost and without compiling the schema on every run.
 *
 * The schema is compiled as the library's JsonStrictValidator compiles it,
 * except for `uniqueItems` (bom-schema.ts, unique-items.ts); the compiled code
 * is loaded from generated/bom-1.6.validate.cjs when that was generated from
 * the installed libraries, and compiled on the spot otherwise.
 *
 * On top of the schema, bom-refs must be unique and dependencies must refer to
 * bom-refs of the document (rules of the CycloneDX specification that its
 * JSON Schema cannot express).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { ReleaseError } from '@nixrel/core';
import type { ErrorObject, Format, ValidateFunction } from 'ajv';
import { firstDuplicate } from './unique-items.js';
import { bomFormats, GENERATED_VALIDATOR, inputVersions } from './validator-inputs.js';

export { canonicalJson, firstDuplicate } from './unique-items.js';

const require = createRequire(import.meta.url);

interface GeneratedValidator {
  inputVersions: Record<string, string>;
  makeValidator(formats: Record<string, Format>, find: typeof firstDuplicate): ValidateFunction;
}

let compiled: ValidateFunction | undefined;

/** The compiled 1.6 schema, once per process: generated ahead of time, or compiled if that is stale. */
export async function compiledSchema(): Promise<ValidateFunction> {
  if (compiled) return compiled;
  const generated = require(fileURLToPath(GENERATED_VALIDATOR)) as GeneratedValidator;
  compiled = isDeepStrictEqual(generated.inputVersions, inputVersions())
    ? generated.makeValidator(bomFormats(), firstDuplicate)
    : (await import('./bom-schema.js')).compileBomSchema().validate;
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

/**
 * Throws SBOM_INVALID with the validator's errors as details; resolves to the
 * parsed document when it is valid (the validator does not change it).
 */
export async function validateBom(json: string): Promise<Record<string, unknown>> {
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
  const validate = await compiledSchema();
  const details = validate(doc) ? [] : (validate.errors ?? []).map(formatError);
  if (details.length === 0) details.push(...referenceErrors(doc as Record<string, unknown>));
  if (details.length > 0) {
    const shown = details.slice(0, MAX_DETAILS);
    if (details.length > MAX_DETAILS) shown.push(`... and ${details.length - MAX_DETAILS} more`);
    throw new ReleaseError('SBOM_INVALID', `SBOM fails CycloneDX 1.6 validation (${details.length} error${details.length === 1 ? '' : 's'})`, {
      details: shown,
    });
  }
  return doc as Record<string, unknown>;
}
