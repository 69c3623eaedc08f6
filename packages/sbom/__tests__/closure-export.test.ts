import { isReleaseError, type ReleaseError } from '@nixrel/core';
import { describe, expect, test } from 'vitest';
import { parseClosureExport } from '../src/closure-export.js';
import { helloClosure, pathEntry, storePath } from './fixtures.js';

const FILE = '/tmp/hello.closure.json';

function errorOf(json: string): ReleaseError {
  try {
    parseClosureExport(json, FILE);
  } catch (e) {
    if (isReleaseError(e)) return e;
    throw e;
  }
  throw new Error('expected parseClosureExport to throw');
}

// biome-ignore lint/suspicious/noExplicitAny: tests break the document in ways its type forbids
type Loose = any;

function mutated(change: (doc: Loose) => void): string {
  const doc = structuredClone(helloClosure()) as Loose;
  change(doc);
  return JSON.stringify(doc);
}

describe('parseClosureExport', () => {
  test('accepts a well-formed export and keeps its data', () => {
    const c = helloClosure();
    expect(parseClosureExport(JSON.stringify(c), FILE)).toEqual(c);
  });

  test('identical duplicate path entries collapse; unknown extra fields are ignored', () => {
    const doc = mutated((d) => {
      d.paths.push(structuredClone(d.paths[0]));
      d.paths[0].registrationTime = 1;
      d.paths[5].registrationTime = 1;
    });
    expect(parseClosureExport(doc, FILE).paths).toHaveLength(5);
  });

  test.each([
    ['truncated JSON', JSON.stringify(helloClosure()).slice(0, 200), /not valid JSON \(truncated or malformed\)/],
    ['empty file', '', /not valid JSON/],
    ['a JSON array', '[]', /document: must be object/],
    ['another format version', mutated((d) => { d.version = 2; }), /version: must be equal to constant 1/],
    ['a missing image name', mutated((d) => { delete d.image.name; }), /image: must have required property 'name'/],
    ['no roots', mutated((d) => { d.image.roots = []; }), /image\.roots: must NOT have fewer than 1 items/],
    ['a root outside the closure', mutated((d) => { d.image.roots = [storePath('elsewhere')]; }), /image\.roots: .*elsewhere is not in the closure/],
    ['a path missing narHash', mutated((d) => { delete d.paths[1].narHash; }), new RegExp(`paths\\[1\\] \\(${storePath('hello-2.12.1-man')}\\): must have required property 'narHash'`)],
    ['a malformed narHash', mutated((d) => { d.paths[0].narHash = 'sha256:xyz'; }), /narHash: "sha256:xyz" is not a sha256 hash/],
    ['a negative narSize', mutated((d) => { d.paths[0].narSize = -1; }), /\.narSize: must be >= 0/],
    ['a path that is not a store path', mutated((d) => { d.paths[0].path = '/tmp/x'; }), /paths\[0\] \(\/tmp\/x\)\.path: must match pattern/],
    ['an unbuilt path (valid: false)', mutated((d) => { d.paths[2].valid = false; }), new RegExp(`${storePath('glibc-2.38')}\\): is not valid in the Nix store \\(not built\\)`)],
    ['a reference outside the closure', mutated((d) => { d.paths[2].references.push(storePath('missing-1.0')); }), new RegExp(`\\(${storePath('glibc-2.38')}\\): references ${storePath('missing-1.0')}, which is not in the closure`)],
    ['the same path twice with different data', mutated((d) => { d.paths.push({ ...d.paths[0], narSize: 1 }); }), /listed twice with different data/],
    ['a derivation without outputs', mutated((d) => { delete d.derivations[0].outputs; }), /derivations\[0\] \(hello-2\.12\.1\): must have required property 'outputs'/],
    ['a licence of the wrong type', mutated((d) => { d.derivations[1].meta.license = 42; }), /derivations\[1\] \(glibc-2\.38\)\.meta\.license: must be string/],
  ])('rejects %s with INVALID_INPUT naming the file', (_what, json, message) => {
    const e = errorOf(json);
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain(FILE);
    expect(e.message).toMatch(message);
  });

  test('a path entry may come straight from nix path-info (valid: true, deriver null)', () => {
    const p = storePath('tool-1.0');
    const doc = { ...helloClosure(), paths: [{ ...pathEntry(p), valid: true, deriver: null }], image: { ...helloClosure().image, roots: [p] } };
    expect(parseClosureExport(JSON.stringify(doc), FILE).paths[0]).toEqual({ ...pathEntry(p), valid: true });
  });
});
