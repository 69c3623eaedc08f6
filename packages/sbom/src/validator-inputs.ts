/**
 * What the compiled CycloneDX validator depends on: the libraries whose
 * versions fix its code, and the format checks it calls at run time. Shared by
 * the compiler (bom-schema.ts) and the loader of the generated module
 * (validate.ts), so both use the very same format functions.
 */
import { createRequire } from 'node:module';
import type { Format } from 'ajv';

const require = createRequire(import.meta.url);

/** Where the generated validator lives; the same from src/ and dist/. */
export const GENERATED_VALIDATOR = new URL('../generated/bom-1.6.validate.cjs', import.meta.url);

/** The libraries the compiled code comes from: the schema (in the cyclonedx library), the compiler and the formats. */
const INPUTS = ['@cyclonedx/cyclonedx-library', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'] as const;

/** Installed versions of the inputs; the generated module records the ones it was compiled with. */
export function inputVersions(): Record<string, string> {
  return Object.fromEntries(INPUTS.map((name) => [name, (require(`${name}/package.json`) as { version: string }).version]));
}

/**
 * The formats the library's JsonStrictValidator installs, by name: all of
 * ajv-formats (full mode), `idn-email` from ajv-formats-draft2019, and
 * `iri-reference` accepted unchecked.
 */
export function bomFormats(): Record<string, Format> {
  const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<string, Format> };
  const idnEmail = require('ajv-formats-draft2019/formats/idn-email') as Format;
  return { ...fullFormats, 'idn-email': idnEmail, 'iri-reference': true };
}
