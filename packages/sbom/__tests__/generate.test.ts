import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReleaseError, type ReleaseError } from '@nixrel/core';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { generateSbom, sbomTimestamp } from '../src/generate.js';
import { helloClosure, storePath } from './fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbom-generate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(run: Promise<unknown>): Promise<ReleaseError> {
  try {
    await run;
  } catch (e) {
    if (isReleaseError(e)) return e;
    throw e;
  }
  throw new Error('expected a ReleaseError');
}

describe('generateSbom', () => {
  test('writes a validated SBOM and returns its record', async () => {
    const closureFile = join(dir, 'hello.closure.json');
    await writeFile(closureFile, JSON.stringify(helloClosure()));
    const outFile = join(dir, 'out', 'hello.cdx.json');
    const record = await generateSbom({ closureFile, outFile, sourceDateEpoch: 1_700_000_000 });
    const text = await readFile(outFile, 'utf8');
    expect(record).toMatchObject({
      path: outFile,
      specVersion: '1.6',
      components: 3,
      licences: { 'GPL-3.0-or-later': 1, 'LGPL-2.1-or-later AND GPL-2.0-or-later': 1 },
    });
    expect(record.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(record.quality.withPurl).toBe(1);
    expect(JSON.parse(text).metadata.timestamp).toBe('2023-11-14T22:13:20.000Z');
    // Same input, same bytes.
    const again = await generateSbom({ closureFile, outFile: join(dir, 'again.cdx.json'), sourceDateEpoch: 1_700_000_000 });
    expect(again.digest).toBe(record.digest);
    expect(await readFile(join(dir, 'again.cdx.json'), 'utf8')).toBe(text);
    expect((await readdir(join(dir, 'out'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('takes the timestamp from SOURCE_DATE_EPOCH when none is given', async () => {
    const closureFile = join(dir, 'c.json');
    await writeFile(closureFile, JSON.stringify(helloClosure()));
    const saved = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '86400';
    try {
      await generateSbom({ closureFile, outFile: join(dir, 'x.cdx.json') });
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = saved;
    }
    expect(JSON.parse(await readFile(join(dir, 'x.cdx.json'), 'utf8')).metadata.timestamp).toBe('1970-01-02T00:00:00.000Z');
  });

  test.each([
    ['truncated', (t: string) => t.slice(0, t.length / 2), 'INVALID_INPUT', /not valid JSON \(truncated or malformed\)/],
    ['an unbuilt path', (t: string) => t.replace('"narSize"', '"valid": false, "narSize"'), 'INVALID_INPUT', /is not valid in the Nix store \(not built\)/],
  ])('a %s closure: clear error, nothing written, an existing SBOM left alone', async (_what, spoil, code, message) => {
    const closureFile = join(dir, 'bad.closure.json');
    await writeFile(closureFile, spoil(JSON.stringify(helloClosure())));
    const outFile = join(dir, 'hello.cdx.json');
    await writeFile(outFile, 'previous');
    const e = await failure(generateSbom({ closureFile, outFile, sourceDateEpoch: 0 }));
    expect(e.code).toBe(code);
    expect(e.message).toContain(closureFile);
    expect(e.message).toMatch(message);
    expect(await readFile(outFile, 'utf8')).toBe('previous');
    expect((await readdir(dir)).sort()).toEqual(['bad.closure.json', 'hello.cdx.json']);
  });

  test('checkStore: a path missing from the store is an error naming it; nothing written', async () => {
    const closureFile = join(dir, 'hello.closure.json');
    await writeFile(closureFile, JSON.stringify(helloClosure()));
    const outFile = join(dir, 'hello.cdx.json');
    const e = await failure(generateSbom({ closureFile, outFile, sourceDateEpoch: 0, checkStore: true }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain(closureFile);
    expect(e.message).toMatch(/\/nix\/store\/[0-9a-z]{32}-[^ ]+ is not in the Nix store \(and 4 more\)/);
    expect(e.details).toContain(storePath('config.json'));
    expect(await readdir(dir)).toEqual(['hello.closure.json']);
  });

  test('a missing closure file is NOT_FOUND', async () => {
    const e = await failure(generateSbom({ closureFile: join(dir, 'nope.json'), outFile: join(dir, 'o.json'), sourceDateEpoch: 0 }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('nope.json');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('sbomTimestamp', () => {
  test('reads SOURCE_DATE_EPOCH', () => {
    expect(sbomTimestamp({ SOURCE_DATE_EPOCH: '1700000000' }).toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });

  test.each([
    [{}, /SOURCE_DATE_EPOCH is not set/],
    [{ SOURCE_DATE_EPOCH: '' }, /SOURCE_DATE_EPOCH is not set/],
    [{ SOURCE_DATE_EPOCH: 'yesterday' }, /SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got "yesterday"/],
    [{ SOURCE_DATE_EPOCH: '-5' }, /must be a whole number/],
    [{ SOURCE_DATE_EPOCH: '1.5' }, /must be a whole number/],
  ])('refuses %j', (env, message) => {
    expect(() => sbomTimestamp(env)).toThrow(message);
  });
});
