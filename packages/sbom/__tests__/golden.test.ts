/**
 * The bytes of the SBOM are pinned: any change to what is written (order,
 * spacing, escaping, serial number) changes these digests. A deliberate change
 * of the output format updates them in the same commit.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClosureExport } from '@nixrel/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSbom } from '../src/generate.js';
import { helloClosure } from './fixtures.js';
import { syntheticClosure } from './synthetic-closure.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbom-golden-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A synthetic closure with the odd corners real metadata has: escapes, non-ASCII text, declared ids, mirrors, licence shapes. */
function variedClosure(): ClosureExport {
  const c = syntheticClosure(600);
  const d = c.derivations;
  d[0]!.meta.description = 'Quotes " and \\ backslashes, tab\there, bell \u0007, NUL \u0000, DEL \u007f';
  d[1]!.meta.description = 'Ünïcødé — 日本語 😀, separators \u2028\u2029, lone surrogates \ud800 and \udfff';
  d[2]!.meta.identifiers = { cpe: 'cpe:2.3:a:example:pkg2:1.0:*:*:*:*:*:*:*', purl: 'pkg:npm/%40scope/pkg2@1.0.0' };
  d[3]!.meta.identifiers = { cpe: 'not a cpe', purls: ['not a purl', 'pkg:pypi/Pkg3@3.0'] };
  d[4]!.src = { urls: ['mirror://gnu/pkg4/pkg4-1.0.tar.gz', 'https://example.org/pkg4.tar.gz'], hash: 'sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA=' };
  d[5]!.src = { urls: [], owner: 'acme', repo: 'pkg5', rev: 'v5' };
  d[6]!.meta.license = 'MIT BSD-2-Clause';
  d[7]!.meta.license = [{ spdxId: 'MIT' }, 'Apache-2.0 OR GPL-2.0-only', { fullName: 'Custom', url: 'https://example.org/licence' }];
  d[8]!.meta.license = 'gpl2Plus WITH Classpath-exception-2.0';
  d[9]!.meta.license = ['(MIT OR Apache-2.0)', 'bsd3', 'ISC'];
  d[10]!.meta.homepage = ['https://example.org/a', 'https://example.org/a', 'https://example.org/b?x="y"'];
  d[11]!.patches = ['/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-fix.patch', 'https://example.org/fix.patch', '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-fix.patch'];
  d[12]!.meta.description = '';
  c.image.metadata = { ...c.image.metadata, homepage: 'https://example.org/synthetic', source: 'https://github.com/acme/synthetic' };
  return c;
}

async function generated(closure: ClosureExport, name: string, image?: { digest?: string; repositoryUrl?: string }) {
  const closureFile = join(dir, `${name}.closure.json`);
  await writeFile(closureFile, JSON.stringify(closure));
  const outFile = join(dir, `${name}.cdx.json`);
  const record = await generateSbom({ closureFile, outFile, sourceDateEpoch: 1_700_000_000, ...(image ? { image } : {}) });
  const bytes = await readFile(outFile);
  // The record without its path (a temporary directory); its digest is the file's.
  const { path: _path, ...rest } = record;
  return {
    file: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    record: createHash('sha256').update(JSON.stringify(rest)).digest('hex'),
  };
}

describe('recorded output', () => {
  test('hello closure', async () => {
    expect(await generated(helloClosure(), 'hello')).toEqual({
      file: 'sha256:bc26589b2ae2a9214604c90bb24442f5539d241733f7475fe815eac69643d3b8',
      record: '8d728dd74f8f1dbd32a7ca26c7e159ff4bd0834939703446c4b693cc67128714',
    });
  });

  test('varied synthetic closure, published image', async () => {
    const image = { digest: `sha256:${'c'.repeat(64)}`, repositoryUrl: 'registry.example.org/acme/synthetic' };
    expect(await generated(variedClosure(), 'varied', image)).toEqual({
      file: 'sha256:5a701c36129b63940d5f6d5f68de46dc0f6f193e7d65c5a996582c2250e206c1',
      record: '4c7552f3b0a1d4210396dc569eea7018841773a269353e5bbd2ddcbecf217a9b',
    });
  });
});
