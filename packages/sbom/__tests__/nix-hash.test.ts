import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { nix32Decode, nix32Encode, nixHashToHex, sha256Narinfo } from '../src/nix-hash.js';

// Pairs printed by `nix-hash --type sha256 --to-base16` / `nix hash to-sri` (Nix 2.8).
const KNOWN = [
  { nix32: '1jhs3dir6qj6ah6mh513k4ajpy91243prksckl15ixqphxc7x5lm', hex: '95967e588717f758029d4ccf7c071121f92b15992314580d54466293631b1aca', sri: 'sha256-lZZ+WIcX91gCnUzPfAcRIfkrFZkjFFgNVEZik2MbGso=' },
  { nix32: '1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s', hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  { nix32: '0080000000000000000000000000000000000000000000000000', hex: `${'0'.repeat(63)}1` },
  { nix32: '000000000000000000000000000000000000000000000000007z', hex: `ff${'0'.repeat(62)}` },
];

describe('Nix base32', () => {
  test.each(KNOWN)('decodes $nix32 to the hex Nix prints', ({ nix32, hex }) => {
    expect(Buffer.from(nix32Decode(nix32)).toString('hex')).toBe(hex);
    expect(nixHashToHex(`sha256:${nix32}`)).toBe(hex);
    expect(nix32Encode(Buffer.from(hex, 'hex'))).toBe(nix32);
  });

  test('SRI and hex forms give the same hex', () => {
    const { hex, sri, nix32 } = KNOWN[0]!;
    expect(nixHashToHex(sri!)).toBe(hex);
    expect(nixHashToHex(`sha256:${hex}`)).toBe(hex);
    expect(sha256Narinfo(sri!)).toBe(`sha256:${nix32}`);
  });

  test('agrees with the nix-hash binary on random hashes', () => {
    for (let i = 0; i < 5; i++) {
      const hex = randomBytes(32).toString('hex');
      const nix32 = execFileSync('nix-hash', ['--type', 'sha256', '--to-base32', hex], { encoding: 'utf8' }).trim();
      expect(nix32Encode(Buffer.from(hex, 'hex'))).toBe(nix32);
      expect(nixHashToHex(`sha256:${nix32}`)).toBe(hex);
    }
  });

  test.each([
    ['a character outside the alphabet', 'sha256:1jhs3dir6qj6ah6mh513k4ajpy91243prksckl15ixqphxc7x5le', /not a Nix base32 character/],
    ['a value that overflows 32 bytes', `sha256:${'z'.repeat(52)}`, /overflows/],
    ['another algorithm', 'sha512-AAAA', /not a sha256 hash/],
    ['a bare hash without algorithm', KNOWN[0]!.nix32, /not a sha256 hash/],
    ['a truncated SRI hash', 'sha256-lZZ+WIcX91gCnUzPfAcRIfkrFZkjFFgNVEZik2', /not a sha256 hash/],
  ])('rejects %s', (_what, input, message) => {
    expect(() => nixHashToHex(input)).toThrow(message);
  });
});
