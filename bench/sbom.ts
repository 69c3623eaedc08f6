/**
 * SBOM stage on a synthetic 5,000-path closure: generate + validate + write,
 * wall time and peak memory, and our validation against the cyclonedx
 * library's stock JsonStrictValidator (what a user would call instead) on the
 * same document, in the same run.
 *
 *   pnpm exec tsx --conditions=source bench/sbom.ts [paths]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticClosure } from '../packages/sbom/__tests__/synthetic-closure.js';
import { compileBomSchema } from '../packages/sbom/src/bom-schema.js';
import { generateSbom, validateBom } from '../packages/sbom/src/index.js';
import { compiledSchema } from '../packages/sbom/src/validate.js';

const PATHS = Number(process.argv[2] ?? 5000);

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-sbom-'));
try {
  const closureFile = join(dir, 'closure.json');
  await writeFile(closureFile, JSON.stringify(syntheticClosure(PATHS)));
  const outFile = join(dir, 'synthetic.cdx.json');

  // Ours, cold: the first call loads the generated validator, as in a fresh CLI run.
  let t = process.hrtime.bigint();
  await compiledSchema();
  const compileMs = ms(t);
  t = process.hrtime.bigint();
  const record = await generateSbom({ closureFile, outFile, sourceDateEpoch: 1_700_000_000 });
  const generateMs = ms(t);
  const json = await readFile(outFile, 'utf8');
  t = process.hrtime.bigint();
  await validateBom(json);
  const oursValidateMs = ms(t);
  const peakMb = process.resourceUsage().maxRSS / 1024;

  // What the generated validator saves: compiling the same schema at run time.
  t = process.hrtime.bigint();
  compileBomSchema();
  const runtimeCompileMs = ms(t);

  // Stock: the library's JsonStrictValidator on the same document (compile timed apart on a tiny BOM).
  const requireFromSbom = createRequire(new URL('../packages/sbom/package.json', import.meta.url));
  const { Spec, Validation } = requireFromSbom('@cyclonedx/cyclonedx-library') as {
    Spec: { Version: { v1dot6: unknown } };
    Validation: { JsonStrictValidator: new (version: unknown) => { validate(json: string): Promise<unknown> } };
  };
  const stock = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  t = process.hrtime.bigint();
  await stock.validate(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 }));
  const stockCompileMs = ms(t);
  t = process.hrtime.bigint();
  const stockErrors = await stock.validate(json);
  const stockValidateMs = ms(t);
  if (stockErrors !== null) throw new Error(`stock validator rejects the document: ${JSON.stringify(stockErrors).slice(0, 500)}`);

  const totalMs = compileMs + generateMs;
  console.log(`closure: ${PATHS} store paths -> ${record.components} components, ${(json.length / 1e6).toFixed(1)} MB of CycloneDX JSON`);
  console.log(`generate + validate + write (cold, incl. loading the compiled schema ${compileMs.toFixed(0)} ms): ${totalMs.toFixed(0)} ms (target < 2000 ms)`);
  console.log(`compiled schema: loading the generated code ${compileMs.toFixed(0)} ms, compiling it at run time ${runtimeCompileMs.toFixed(0)} ms`);
  console.log(`peak RSS after generation: ${peakMb.toFixed(0)} MB (target < 300 MB)`);
  console.log(`validation only, compiled schema: ours ${oursValidateMs.toFixed(0)} ms, stock JsonStrictValidator ${stockValidateMs.toFixed(0)} ms`);
  console.log(`ratio stock/ours, validation only: ${(stockValidateMs / oursValidateMs).toFixed(1)}x`);
  console.log(
    `ratio stock/ours, validation incl. compile: ${((stockCompileMs + stockValidateMs) / (compileMs + oursValidateMs)).toFixed(1)}x ` +
      `(stock ${(stockCompileMs + stockValidateMs).toFixed(0)} ms, ours ${(compileMs + oursValidateMs).toFixed(0)} ms)`,
  );
  console.log(`whole stage with the stock validator instead would take ~${(generateMs - oursValidateMs + stockCompileMs + stockValidateMs).toFixed(0)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
