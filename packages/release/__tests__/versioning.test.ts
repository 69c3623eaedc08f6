import { isReleaseError } from '@nixrel/core';
import { describe, expect, it } from 'vitest';
import { assertVersion, componentTag, nextCollectionVersion, releaseDay, versionPrefix } from '../src/versioning.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const DAY = new Date('2026-03-04T23:59:59Z');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isReleaseError(e) ? e.code : 'not a ReleaseError';
  }
  return undefined;
}

describe('componentTag', () => {
  it('is <name>-<version>-<sha7>', () => {
    expect(componentTag('hello', '2.12.1', COMMIT)).toBe('hello-2.12.1-0123456');
  });

  it('maps characters a tag cannot carry to "_"', () => {
    expect(componentTag('pg', '16.2+deb12~rc1', COMMIT)).toBe('pg-16.2_deb12_rc1-0123456');
    expect(componentTag('x', '1.0 beta/2', COMMIT)).toBe('x-1.0_beta_2-0123456');
  });

  it('keeps the characters a tag allows', () => {
    expect(componentTag('a_b.c', 'v1.2-3_4', COMMIT)).toBe('a_b.c-v1.2-3_4-0123456');
  });

  it('refuses a tag longer than 128 characters, naming it', () => {
    const name = 'n'.repeat(130);
    expect(() => componentTag(name, '1', COMMIT)).toThrow(new RegExp(`invalid tag "${name}-1-0123456"`));
    expect(codeOf(() => componentTag(name, '1', COMMIT))).toBe('INVALID_INPUT');
  });
});

describe('nextCollectionVersion', () => {
  it('starts a day at build 1', () => {
    expect(releaseDay(DAY)).toBe('20260304');
    expect(versionPrefix('sbomify', '26.1.0', DAY)).toBe('sbomify-v26.1.0-20260304.');
    expect(nextCollectionVersion('sbomify', '26.1.0', DAY, [])).toBe('sbomify-v26.1.0-20260304.1');
  });

  it('takes the next number after the highest taken that day, numerically', () => {
    const taken = ['sbomify-v26.1.0-20260304.1', 'sbomify-v26.1.0-20260304.9', 'sbomify-v26.1.0-20260304.10', 'sbomify-v26.1.0-20260304.2'];
    expect(nextCollectionVersion('sbomify', '26.1.0', DAY, taken)).toBe('sbomify-v26.1.0-20260304.11');
  });

  it('counts gaps as taken only up to the highest number', () => {
    expect(nextCollectionVersion('sbomify', '26.1.0', DAY, ['sbomify-v26.1.0-20260304.3'])).toBe('sbomify-v26.1.0-20260304.4');
  });

  it('ignores other days, other collections, other app versions and other tags', () => {
    const taken = [
      'sbomify-v26.1.0-20260303.7', // the day before
      'sbomify-v26.1.0-20260305.5', // the day after
      'example-v26.1.0-20260304.4', // another collection
      'sbomify-v26.0.9-20260304.6', // another app version
      'sbomify-v26.1.0-20260304.x', // not a build number
      'sbomify-v26.1.0-20260304.1.1', // not a whole number
      'hello-2.12.1-0123456', // a component tag
      'latest',
    ];
    expect(nextCollectionVersion('sbomify', '26.1.0', DAY, taken)).toBe('sbomify-v26.1.0-20260304.1');
  });

  it('uses the UTC day', () => {
    expect(nextCollectionVersion('example', '1.0.0', new Date('2026-03-04T00:00:00+02:00'), [])).toBe('example-v1.0.0-20260303.1');
  });

  it('accepts any iterable of taken tags', () => {
    expect(nextCollectionVersion('example', '1.0.0', DAY, new Set(['example-v1.0.0-20260304.1']))).toBe('example-v1.0.0-20260304.2');
  });
});

describe('assertVersion', () => {
  it('accepts a tag-shaped version', () => {
    expect(() => assertVersion('example-v1.0.0-20260304.1')).not.toThrow();
    expect(() => assertVersion('v1')).not.toThrow();
    expect(() => assertVersion('a'.repeat(128))).not.toThrow();
  });

  it.each(['', 'has space', 'v1+build', '-v1', '.v1', 'a/b', 'a'.repeat(129), 'ünïcode'])('refuses %j as INVALID_INPUT, naming it', (bad) => {
    expect(codeOf(() => assertVersion(bad))).toBe('INVALID_INPUT');
    expect(() => assertVersion(bad)).toThrow(`invalid --version "${bad}"`);
  });
});
