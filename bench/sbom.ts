/**
 * SBOM stage on a synthetic 5,000-path closure: generate + validate + write,
 * wall time and peak memory, and our validation against the cyclonedx
 * library's stock JsonStrictValidator (what a user would call instead) on the
 * same document, in the same run.
 *
 *   pnpm exec tsx --conditions=source bench/sbom.ts [paths]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClosureExport, ClosurePath, DerivationInfo } from '../packages/core/src/types.js';
import { generateSbom, validateBom } from '../packages/sbom/src/index.js';
import { nix32Encode } from '../packages/sbom/src/nix-hash.js';
import { compiledSchema } from '../packages/sbom/src/validate.js';

const PATHS = Number(process.argv[2] ?? 5000);
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

// Deterministic pseudo-random numbers, so every run measures the same closure.
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}

function storePath(name: string): string {
  const d = createHash('sha256').update(name).digest();
  let h = '';
  for (let i = 0; i < 32; i++) h += NIX32[d[i]! % 32];
  return `/nix/store/${h}-${name}`;
}

const LICENCES = [{ spdxId: 'MIT' }, { spdxId: 'GPL-2.0-or-later' }, { spdxId: 'Apache-2.0' }, { fullName: 'Unfree' }, 'BSD-3-Clause'];

/** Derivations with 1-3 outputs (some of them documentation), references to earlier paths, metadata. */
function syntheticClosure(count: number): ClosureExport {
  const paths: ClosurePath[] = [];
  const derivations: DerivationInfo[] = [];
  let i = 0;
  while (paths.length < count) {
    const name = `pkg${i}`;
    const version = `${i % 7}.${i % 13}.${i % 5}`;
    const outNames = ['out', ...(random() < 0.3 ? ['lib'] : []), ...(random() < 0.2 ? ['man'] : [])];
    const outputs: Record<string, string> = {};
    for (const o of outNames) outputs[o] = storePath(`${name}-${version}${o === 'out' ? '' : `-${o}`}`);
    for (const o of outNames) {
      if (paths.length >= count) break;
      const refs = new Set<string>();
      const n = Math.floor(random() * 8);
      for (let k = 0; k < n && paths.length > 0; k++) refs.add(paths[Math.floor(random() * paths.length)]!.path);
      if (random() < 0.5) refs.add(outputs[o]!); // self reference
      paths.push({
        path: outputs[o]!,
        references: [...refs],
        narHash: `sha256:${nix32Encode(createHash('sha256').update(outputs[o]!).digest())}`,
        narSize: Math.floor(random() * 1e7),
        deriver: storePath(`${name}-${version}.drv`),
      });
    }
    if (random() < 0.9) {
      const github = random() < 0.5;
      derivations.push({
        drvPath: storePath(`${name}-${version}.drv`),
        name: `${name}-${version}`,
        pname: name,
        version,
        outputs,
        meta: {
          description: `Synthetic package ${i}`,
          homepage: `https://example.org/${name}`,
          license: random() < 0.3 ? [LICENCES[i % 5]!, LICENCES[(i + 1) % 5]!] : LICENCES[i % 5]!,
        },
        src: github
          ? { urls: [`https://github.com/org${i % 50}/${name}/archive/v${version}.tar.gz`], hash: `sha256-${createHash('sha256').update(name).digest('base64')}` }
          : { urls: [`https://downloads.example.org/${name}-${version}.tar.gz`], hash: `sha256-${createHash('sha256').update(name).digest('base64')}` },
        ...(random() < 0.2 ? { patches: [storePath(`${name}-fix.patch`)] } : {}),
      });
    }
    i++;
  }
  return {
    version: 1,
    image: {
      name: 'synthetic',
      version: '1.0.0',
      metadata: { title: 'synthetic', description: 'Synthetic closure', licenses: 'MIT', vendor: 'Bench Org' },
      roots: paths.slice(-10).map((p) => p.path),
    },
    paths,
    derivations,
  };
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-sbom-'));
try {
  const closureFile = join(dir, 'closure.json');
  await writeFile(closureFile, JSON.stringify(syntheticClosure(PATHS)));
  const outFile = join(dir, 'synthetic.cdx.json');

  // Ours, cold: the first call compiles the schema, as in a fresh CLI run.
  let t = process.hrtime.bigint();
  compiledSchema();
  const compileMs = ms(t);
  t = process.hrtime.bigint();
  const record = await generateSbom({ closureFile, outFile, sourceDateEpoch: 1_700_000_000 });
  const generateMs = ms(t);
  const json = await readFile(outFile, 'utf8');
  t = process.hrtime.bigint();
  await validateBom(json);
  const oursValidateMs = ms(t);
  const peakMb = process.resourceUsage().maxRSS / 1024;

  // Stock: the library's JsonStrictValidator on the same document (compile timed apart on a tiny BOM).
  const requireFromSbom = createRequire(new URL('../packages/sbom/package.json', import.meta.url));
  const { Spec, Validation } = requireFromSbom('@cyclonedx/cyclonedx-library') as typeof import('@cyclonedx/cyclonedx-library');
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
  console.log(`generate + validate + write (cold, incl. schema compile ${compileMs.toFixed(0)} ms): ${totalMs.toFixed(0)} ms (target < 2000 ms)`);
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
