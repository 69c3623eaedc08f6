import { describe, expect, it } from 'vitest';
import { assertImageName, isReleaseError, isValidImageName, isValidTag } from '../src/index.js';

describe('OCI grammar', () => {
  it('accepts image names of the collection', () => {
    for (const n of ['postgres', 'sbomify-app', 'sbomify-minio-init', 'a.b', 'a__b']) expect(isValidImageName(n)).toBe(true);
  });
  it('rejects upper case, leading separators and path characters', () => {
    for (const n of ['Demo', '-x', 'x-', 'a/b', '', 'a..b', 'a b']) expect(isValidImageName(n)).toBe(false);
  });
  it('names the bad input in the error', () => {
    try {
      assertImageName('Bad_Name');
      expect.unreachable();
    } catch (e) {
      expect(isReleaseError(e, 'INVALID_INPUT')).toBe(true);
      expect((e as Error).message).toContain('"Bad_Name"');
    }
  });
  it('refuses a name too long for its component tag, saying the limit', () => {
    expect(isValidImageName('a'.repeat(64))).toBe(true);
    expect(() => assertImageName('a'.repeat(128))).toThrow(/128 characters, at most 64 \(its tag <name>-<version>-<commit> must fit 128\)/);
    // The longest name still gets its tag, with a version of reasonable length.
    expect(isValidTag(`${'a'.repeat(64)}-26.1.0-2024.11.03.1-f98cf0f`)).toBe(true);
  });
  it('validates tags', () => {
    expect(isValidTag('sbomify-v26.1.0-20260405.6')).toBe(true);
    expect(isValidTag('.hidden')).toBe(false);
    expect(isValidTag('x'.repeat(129))).toBe(false);
  });
});
