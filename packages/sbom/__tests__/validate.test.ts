import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { isReleaseError, type ReleaseError } from '@nixrel/core';
import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, test } from 'vitest';
import { compileBomSchema, validatorModuleCode } from '../src/bom-schema.js';
import { closureToBom } from '../src/closure-to-bom.js';
import { serializeBom } from '../src/serialize.js';
import { canonicalJson, compiledSchema, firstDuplicate, validateBom } from '../src/validate.js';
import { GENERATED_VALIDATOR } from '../src/validator-inputs.js';
import { helloClosure } from './fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: the documents under test are walked loosely
type Json = Record<string, any>;

function validDoc(): Json {
  return JSON.parse(serializeBom(closureToBom(helloClosure(), { timestamp: new Date(0), toolVersion: '0.1.0' })));
}

async function errorOf(doc: unknown): Promise<ReleaseError | undefined> {
  try {
    await validateBom(typeof doc === 'string' ? doc : JSON.stringify(doc));
    return undefined;
  } catch (e) {
    if (isReleaseError(e)) return e;
    throw e;
  }
}

// Documents that differ from a valid one in one way each; the library's stock
// strict validator is the reference for what is valid.
const VARIANTS: [string, (d: Json) => void, boolean][] = [
  ['unchanged', () => {}, true],
  ['a duplicated component', (d) => d.components.push(structuredClone(d.components[0])), false],
  ['a duplicate with keys in another order', (d) => {
    const c = d.components[0];
    d.components.push(Object.fromEntries(Object.entries(structuredClone(c)).reverse()));
  }, false],
  ['two components that differ in one nested value', (d) => {
    const copy = structuredClone(d.components[0]);
    copy.properties[0].value += 'x';
    copy['bom-ref'] += 'x';
    d.components.push(copy);
  }, true],
  ['a duplicated dependsOn entry', (d) => d.dependencies[1].dependsOn.push(d.dependencies[1].dependsOn[0]), false],
  ['a duplicated dependency', (d) => d.dependencies.push(structuredClone(d.dependencies[0])), false],
  ['an unknown property', (d) => { d.components[0].colour = 'blue'; }, false],
  ['a wrong component type', (d) => { d.components[0].type = 'gadget'; }, false],
  ['a malformed hash', (d) => { d.components[0].hashes[0].content = 'xyz'; }, false],
  ['a bad serial number', (d) => { d.serialNumber = 'urn:uuid:nope'; }, false],
  ['a licence with both id and name', (d) => { d.components[0].licenses[0].license.name = 'x'; }, false],
];

describe('validateBom', () => {
  const stockValidator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  let generated: ValidateFunction;
  let compiledNow: ValidateFunction;
  beforeAll(async () => {
    generated = await compiledSchema();
    compiledNow = compileBomSchema().validate;
  });

  test('the generated validator is the schema compiled from the installed libraries', () => {
    const digest = (text: string) => createHash('sha256').update(text).digest('hex');
    const checkedIn = digest(readFileSync(fileURLToPath(GENERATED_VALIDATOR), 'utf8'));
    expect(checkedIn, 'generated/bom-1.6.validate.cjs is stale: run `pnpm --filter @nixrel/sbom generate:validator`').toBe(
      digest(validatorModuleCode()),
    );
  });

  test.each(VARIANTS)('agrees with the stock JsonStrictValidator: %s', async (_what, change, valid) => {
    const doc = validDoc();
    change(doc);
    const json = JSON.stringify(doc);
    const stock = await stockValidator.validate(json);
    const ours = await errorOf(json);
    expect(stock === null).toBe(valid);
    expect(ours === undefined).toBe(valid);
    // The generated code and a compile on the spot give the same verdict and errors.
    const parsed = JSON.parse(json);
    expect(generated(parsed)).toBe(valid);
    expect(compiledNow(parsed)).toBe(valid);
    expect(generated.errors ?? null).toEqual(compiledNow.errors ?? null);
    if (ours) {
      expect(ours.code).toBe('SBOM_INVALID');
      expect(ours.details.length).toBeGreaterThan(0);
    }
  });

  test('a duplicate is reported like uniqueItems, with the instance path', async () => {
    const doc = validDoc();
    doc.components.push(structuredClone(doc.components[1]));
    const e = await errorOf(doc);
    expect(e?.details[0]).toBe('/components: must NOT have duplicate items (items ## 1 and 3 are identical)');
  });

  test('beyond the schema: bom-refs must be unique and dependencies must point at them', async () => {
    const dup = validDoc();
    dup.components[1]['bom-ref'] = dup.components[0]['bom-ref'];
    expect((await errorOf(dup))?.details.join('\n')).toMatch(/bom-ref ".*" is not unique/);
    const dangling = validDoc();
    dangling.dependencies[0].dependsOn.push('/nix/store/nothing');
    expect((await errorOf(dangling))?.details.join('\n')).toMatch(/dependsOn\/1: "\/nix\/store\/nothing" is no bom-ref/);
  });

  test('not JSON, or another spec version, is SBOM_INVALID', async () => {
    expect((await errorOf('{"bomFormat": "Cyclo'))?.message).toMatch(/not valid JSON/);
    expect((await errorOf({ ...validDoc(), specVersion: '1.5' }))?.message).toMatch(/specVersion is "1.5"/);
  });
});

describe('canonical JSON uniqueness', () => {
  test('deep-equal values have the same canonical text, whatever the key order', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 'x' }], a: null })).toBe(canonicalJson({ a: null, b: [1, { c: 'x', d: 2 }] }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
  });

  test('firstDuplicate finds the first repeated item', () => {
    expect(firstDuplicate([{ a: 1 }, { a: 2 }, { a: 1 }])).toEqual({ i: 2, j: 0 });
    expect(firstDuplicate(['x', 'y'])).toBeUndefined();
    // Same top level, different nested values: not duplicates; the same nested values in another key order are.
    expect(firstDuplicate([{ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [2, 1] } }])).toBeUndefined();
    expect(firstDuplicate([{ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [2, 1] } }, { b: { c: [2, 1] }, a: 1 }])).toEqual({ i: 2, j: 1 });
    expect(firstDuplicate([1, '1', [1], { 1: 1 }, null, true, 'true'])).toBeUndefined();
  });

  test('firstDuplicate agrees with comparing every pair of items', () => {
    // Small values from a few keys and leaves, so that many arrays hold equal (and nearly equal) items.
    let state = 7; // xorshift32: deterministic, so a failure can be replayed
    const pick = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const value = (depth: number): unknown => {
      const kind = depth > 2 ? pick(3) : pick(5);
      if (kind === 0) return [null, true, 0, 1, 'a', 'b'][pick(6)];
      if (kind === 1) return String(pick(3));
      if (kind === 2) return pick(3);
      if (kind === 3) return Array.from({ length: pick(3) }, () => value(depth + 1));
      const keys = ['b', 'a', 'c'].slice(0, 1 + pick(3));
      if (pick(2)) keys.reverse();
      return Object.fromEntries(keys.map((k) => [k, value(depth + 1)]));
    };
    // The same value with its object keys in a random order, at every level.
    const shuffled = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shuffled);
      if (v === null || typeof v !== 'object') return v;
      const entries = Object.entries(v).map(([k, x]) => [k, shuffled(x)] as const);
      if (pick(2)) entries.reverse();
      return Object.fromEntries(entries);
    };
    const pairwise = (items: unknown[]) => {
      for (let i = 1; i < items.length; i++) for (let j = 0; j < i; j++) if (isDeepStrictEqual(items[i], items[j])) return { i, j };
      return undefined;
    };
    let duplicates = 0;
    for (let n = 0; n < 2000; n++) {
      // Items drawn from a few values (key order varied) and fresh ones: many equal, many nearly equal.
      const pool = Array.from({ length: 1 + pick(4) }, () => value(0));
      const drawn = Array.from({ length: pick(8) }, () => (pick(4) === 0 ? value(0) : shuffled(pool[pick(pool.length)])));
      const items = JSON.parse(JSON.stringify(drawn)) as unknown[];
      const expected = pairwise(items);
      expect(firstDuplicate(items), JSON.stringify(items)).toEqual(expected);
      if (expected) duplicates++;
    }
    expect(duplicates).toBeGreaterThan(200);
    expect(duplicates).toBeLessThan(1800);
  });
});
