/**
 * Writes generated/bom-1.6.validate.cjs, the compiled CycloneDX 1.6 schema.
 * Run after upgrading @cyclonedx/cyclonedx-library, ajv or its format plugins:
 *
 *   pnpm --filter @nixrel/sbom generate:validator
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validatorModuleCode } from '../src/bom-schema.js';
import { GENERATED_VALIDATOR } from '../src/validator-inputs.js';

writeFileSync(fileURLToPath(GENERATED_VALIDATOR), validatorModuleCode());
console.log(`wrote ${fileURLToPath(GENERATED_VALIDATOR)}`);
