/**
 * The CycloneDX 1.6 JSON Schema compiled as the cyclonedx library's
 * JsonStrictValidator compiles it (same schemas, ajv options and formats),
 * except that every `uniqueItems: true` is checked by `uniqueItemsCanonical`
 * (see unique-items.ts for why it accepts and rejects the same documents).
 *
 * Compiling takes about half a second, so the compiled code is generated ahead
 * of time into generated/bom-1.6.validate.cjs (`pnpm --filter @nixrel/sbom
 * generate:validator`); validate.ts loads it, and compiles here only when the
 * installed libraries are not the ones it was generated from.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { _, Ajv, type CodeKeywordDefinition, str, type ValidateFunction } from 'ajv';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import addFormats2019Module from 'ajv-formats-draft2019';
import { firstDuplicate } from './unique-items.js';
import { bomFormats, inputVersions } from './validator-inputs.js';

const require = createRequire(import.meta.url);
const SCHEMA_DIR = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');

// CommonJS modules; under NodeNext the default import may be the module object.
const unwrap = <T>(m: unknown): T => ((m as { default?: T }).default ?? m) as T;
type Plugin = (ajv: Ajv, options?: unknown) => Ajv;
const addFormats = unwrap<Plugin>(addFormatsModule);
const addFormats2019 = unwrap<Plugin>(addFormats2019Module);
const standaloneCode = unwrap<(ajv: Ajv, validate: ValidateFunction) => string>(standaloneCodeModule);

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

function readSchema(file: string): object {
  return withFastUniqueItems(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8'))) as object;
}

// The generated module receives these two as parameters (see validatorModuleCode).
const FORMATS = _`formats`;
const FIRST_DUPLICATE = _`firstDuplicate`;

const uniqueItemsCanonical: CodeKeywordDefinition = {
  keyword: 'uniqueItemsCanonical',
  type: 'array',
  schemaType: 'boolean',
  error: {
    message: ({ params }) => str`must NOT have duplicate items (items ## ${params['j']} and ${params['i']} are identical)`,
    params: ({ params }) => _`{i: ${params['i']}, j: ${params['j']}}`,
  },
  code(cxt) {
    if (cxt.schema !== true) return;
    const find = cxt.gen.scopeValue('func', { ref: firstDuplicate, code: FIRST_DUPLICATE });
    const dup = cxt.gen.const('dup', _`${find}(${cxt.data})`);
    cxt.setParams({ i: _`${dup}.i`, j: _`${dup}.j` });
    cxt.fail(_`${dup} !== undefined`);
  },
};

/** Compiles the 1.6 schema; with `source`, the function carries its code for standalone generation. */
export function compileBomSchema(opts: { source?: boolean } = {}): { ajv: Ajv; validate: ValidateFunction } {
  const ajv = new Ajv({
    // The library's options.
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    loadSchema: (uri: string) => {
      throw new Error(`remote schemas are disabled: ${uri}`);
    },
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': readSchema('spdx.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': readSchema('cryptography-defs.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': readSchema('jsf-0.82.SNAPSHOT.schema.json'),
    },
    // Generated code takes the format checks as a parameter, not from a require of ajv-formats.
    code: { source: opts.source === true, formats: FORMATS },
  });
  // The library's formats.
  addFormats(ajv);
  addFormats2019(ajv, { formats: ['idn-email'] });
  // As in the library: no working implementation of iri-reference exists for ajv.
  ajv.addFormat('iri-reference', true);
  // The generated code is handed bomFormats() at run time: it must hold exactly these.
  const formats = bomFormats();
  for (const [name, format] of Object.entries(ajv.formats)) {
    if (formats[name] !== format) throw new Error(`format "${name}" of the compiled schema is not the one bomFormats() provides`);
  }
  ajv.addKeyword(uniqueItemsCanonical);
  return { ajv, validate: ajv.compile(readSchema('bom-1.6.SNAPSHOT.schema.json')) };
}

/** The text of generated/bom-1.6.validate.cjs: ajv's standalone code of the compiled schema. */
export function validatorModuleCode(): string {
  const { ajv, validate } = compileBomSchema({ source: true });
  const code = standaloneCode(ajv, validate).replace(/^"use strict";/, '');
  return [
    '// biome-ignore-all lint: generated code',
    '// The CycloneDX 1.6 JSON Schema compiled by ajv (packages/sbom/src/bom-schema.ts).',
    '// Generated by `pnpm --filter @nixrel/sbom generate:validator`; do not edit.',
    "'use strict';",
    `exports.inputVersions = ${JSON.stringify(inputVersions())};`,
    'exports.makeValidator = function makeValidator(formats, firstDuplicate) {',
    'const module = { exports: {} };',
    code,
    'return module.exports;',
    '};',
    '',
  ].join('\n');
}
