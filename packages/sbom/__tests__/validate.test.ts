import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { isReleaseError, type ReleaseError } from '@nixrel/core';
import { describe, expect, test } from 'vitest';
import { closureToBom } from '../src/closure-to-bom.js';
import { serializeBom } from '../src/serialize.js';
import { canonicalJson, firstDuplicate, validateBom } from '../src/validate.js';
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

  test.each(VARIANTS)('agrees with the stock JsonStrictValidator: %s', async (_what, change, valid) => {
    const doc = validDoc();
    change(doc);
    const json = JSON.stringify(doc);
    const stock = await stockValidator.validate(json);
    const ours = await errorOf(json);
    expect(stock === null).toBe(valid);
    expect(ours === undefined).toBe(valid);
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
  });
});
