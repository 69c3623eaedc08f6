/**
 * Against real Nix: the example collection's closure exports (built by its
 * flake) become SBOMs whose components and edges match what the Nix store says.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type ClosureExport, isReleaseError } from '@nixrel/core';
import { makeTinyFlake, offlineNixEnv } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXCLUDED_OUTPUTS, generateSbom } from '../src/index.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../../..');
const env = offlineNixEnv();

async function nix(args: string[]): Promise<string> {
  return (await run(args[0]!, args.slice(1), { env, maxBuffer: 64 << 20 })).stdout;
}

// biome-ignore lint/suspicious/noExplicitAny: the documents under test are walked loosely
type Json = Record<string, any>;
let dir: string;
let system: string;
const exports = new Map<string, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbom-integration-'));
  system = (await nix(['nix', 'eval', '--impure', '--raw', '--expr', 'builtins.currentSystem'])).trim();
  const images = (await readdir(join(REPO, 'examples/images'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const installables = images.map((name) => `path:${join(REPO, 'examples')}#packages.${system}.${name}.closureExport`);
  const built = JSON.parse(await nix(['nix', 'build', '--no-link', '--json', ...installables])) as { outputs: { out: string } }[];
  for (const [i, name] of images.entries()) exports.set(name, built[i]!.outputs.out);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('example collection', () => {
  test('has images to check', () => {
    expect(exports.size).toBeGreaterThan(0);
  });

  test('every runtime store path is a component and every edge is a store reference', async () => {
    for (const [name, closureFile] of exports) {
      const outFile = join(dir, `${name}.cdx.json`);
      await generateSbom({ closureFile, outFile, sourceDateEpoch: 1_700_000_000, checkStore: true });
      const doc: Json = JSON.parse(await readFile(outFile, 'utf8'));
      const closure: ClosureExport = JSON.parse(await readFile(closureFile, 'utf8'));

      const excluded = new Set<string>();
      for (const d of closure.derivations) for (const [o, p] of Object.entries(d.outputs)) if (EXCLUDED_OUTPUTS.has(o)) excluded.add(p);
      const runtime = (await nix(['nix-store', '-qR', ...closure.image.roots])).split('\n').filter((p) => p !== '' && !excluded.has(p));

      // path -> bom-ref of the component that lists it in nix:store_path
      const refOf = new Map<string, string>();
      for (const c of doc.components) {
        for (const p of c.properties.filter((x: Json) => x.name === 'nix:store_path')) refOf.set(p.value, c['bom-ref']);
      }
      expect([...refOf.keys()].sort(), name).toEqual([...runtime].sort());

      const graph = new Map<string, string[]>(doc.dependencies.map((d: Json) => [d.ref, d.dependsOn ?? []]));
      for (const c of doc.components) {
        const expected = new Set<string>();
        for (const p of c.properties.filter((x: Json) => x.name === 'nix:store_path')) {
          for (const r of (await nix(['nix-store', '-q', '--references', p.value])).split('\n')) {
            const ref = refOf.get(r);
            if (r !== '' && ref !== undefined && ref !== c['bom-ref']) expected.add(ref);
          }
        }
        expect([...(graph.get(c['bom-ref']) ?? [])].sort(), `${name}: ${c['bom-ref']}`).toEqual([...expected].sort());
      }
      const rootDeps = new Set(closure.image.roots.map((r) => refOf.get(r)));
      expect([...(graph.get(doc.metadata.component['bom-ref']) ?? [])].sort()).toEqual([...rootDeps].sort());

      // Generating again gives the same bytes.
      const again = join(dir, `${name}.again.cdx.json`);
      await generateSbom({ closureFile, outFile: again, sourceDateEpoch: 1_700_000_000, checkStore: true });
      expect(await readFile(again, 'utf8')).toBe(await readFile(outFile, 'utf8'));
    }
  });

  test('the NAR hashes are the ones the store reports', async () => {
    const [name, closureFile] = [...exports][0]!;
    const doc: Json = JSON.parse(await readFile(join(dir, `${name}.cdx.json`), 'utf8'));
    for (const c of doc.components) {
      const path = c['bom-ref'];
      const hex = (await nix(['nix-store', '-q', '--hash', path])).trim();
      const base16 = (await nix(['nix-hash', '--type', 'sha256', '--to-base16', hex.replace(/^sha256:/, '')])).trim();
      expect(c.hashes[0].content, `${closureFile}: ${path}`).toBe(base16);
    }
  });
});

describe('a closure with a path that is not built', () => {
  let unbuilt: string;
  let flakeCleanup: () => Promise<void>;

  beforeAll(async () => {
    const flake = await makeTinyFlake({ never: 'echo never-built-$RANDOM > $out' }, system);
    flakeCleanup = flake.cleanup;
    unbuilt = (await nix(['nix', 'eval', '--raw', `path:${flake.dir}#packages.${system}.never.outPath`])).trim();
  });
  afterAll(async () => flakeCleanup?.());

  async function closureWith(entry: Json): Promise<string> {
    const base: ClosureExport = JSON.parse(await readFile([...exports.values()][0]!, 'utf8'));
    const file = join(dir, `unbuilt-${Math.random().toString(16).slice(2)}.json`);
    base.paths.push(entry as never);
    base.paths[0]!.references.push(unbuilt);
    await writeFile(file, JSON.stringify(base));
    return file;
  }

  test('nix reports it as not valid, and the SBOM stage refuses it', async () => {
    const info = JSON.parse(await nix(['nix', 'path-info', '--json', unbuilt])) as Json;
    const entry = Array.isArray(info) ? info[0] : info[unbuilt];
    expect(entry.valid).toBe(false);
    const closureFile = await closureWith({ path: unbuilt, valid: false, references: [], narHash: `sha256:${'0'.repeat(52)}`, narSize: 0 });
    const outFile = join(dir, 'unbuilt.cdx.json');
    const e = await generateSbom({ closureFile, outFile, sourceDateEpoch: 0 }).catch((x: unknown) => x);
    expect(isReleaseError(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toContain(unbuilt);
    expect((e as Error).message).toContain(closureFile);
    await expect(readFile(outFile)).rejects.toThrow(/ENOENT/);
  });

  test('a listed path missing from the store is found by checkStore', async () => {
    const closureFile = await closureWith({ path: unbuilt, references: [], narHash: `sha256:${'0'.repeat(52)}`, narSize: 0 });
    const outFile = join(dir, 'missing.cdx.json');
    const e = await generateSbom({ closureFile, outFile, sourceDateEpoch: 0, checkStore: true }).catch((x: unknown) => x);
    expect(isReleaseError(e, 'NOT_FOUND')).toBe(true);
    expect((e as Error).message).toContain(`${unbuilt} is not in the Nix store`);
    await expect(readFile(outFile)).rejects.toThrow(/ENOENT/);
  });
});
