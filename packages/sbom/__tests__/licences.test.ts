import { Models } from '@cyclonedx/cyclonedx-library';
import { describe, expect, test } from 'vitest';
import { type LicenceField, licenceSummary, licencesOf } from '../src/licences.js';
import { parseSpdxExpression } from '../src/spdx-expression.js';

function describeLicences(field: LicenceField): string[] {
  return licencesOf(field).map((l) => {
    if (l instanceof Models.LicenseExpression) return `expression:${l.expression}`;
    if (l instanceof Models.SpdxLicense) return `id:${l.id}`;
    return `name:${l.name}${l.url ? ` <${l.url}>` : ''}`;
  });
}

describe('licencesOf', () => {
  test('a nixpkgs licence attrset becomes its SPDX id', () => {
    expect(describeLicences({ spdxId: 'MIT', shortName: 'mit', fullName: 'MIT License' })).toEqual(['id:MIT']);
  });

  test('an SPDX id in the wrong case is fixed up', () => {
    expect(describeLicences({ spdxId: 'gpl-2.0-only' })).toEqual(['id:GPL-2.0-only']);
    expect(describeLicences('apache-2.0')).toEqual(['id:Apache-2.0']);
  });

  test('a list means every licence applies: one AND expression, in the given order', () => {
    expect(describeLicences([{ spdxId: 'Apache-2.0' }, { spdxId: 'MIT' }, { spdxId: 'OFL-1.1' }])).toEqual([
      'expression:Apache-2.0 AND MIT AND OFL-1.1',
    ]);
  });

  test('duplicates in a list collapse', () => {
    expect(describeLicences([{ spdxId: 'MIT' }, 'MIT', { spdxId: 'mit' }])).toEqual(['id:MIT']);
  });

  test('compound expressions keep their meaning when joined', () => {
    expect(describeLicences('MIT OR Apache-2.0')).toEqual(['expression:MIT OR Apache-2.0']);
    expect(describeLicences(['mit or apache-2.0', 'BSD-3-Clause'])).toEqual(['expression:(MIT OR Apache-2.0) AND BSD-3-Clause']);
    expect(describeLicences('GPL-2.0-only WITH Classpath-exception-2.0')).toEqual([
      'expression:GPL-2.0-only WITH Classpath-exception-2.0',
    ]);
    expect(describeLicences('(MIT)')).toEqual(['id:MIT']);
    expect(describeLicences('GPL-2.0+')).toEqual(['expression:GPL-2.0+']);
  });

  test('a space separated string of ids (nixpkgs shorthand) is an AND', () => {
    expect(describeLicences('MIT BSD-2-Clause')).toEqual(['expression:MIT AND BSD-2-Clause']);
  });

  test('names that are not SPDX become named licences, with their URL', () => {
    expect(describeLicences({ shortName: 'unfree', fullName: 'Unfree' })).toEqual(['name:Unfree']);
    expect(describeLicences({ fullName: 'Custom Licence', url: 'https://example.org/licence' })).toEqual([
      'name:Custom Licence <https://example.org/licence>',
    ]);
    expect(describeLicences('Some Vendor EULA')).toEqual(['name:Some Vendor EULA']);
    expect(describeLicences({ spdxId: 'Not-A-Real-Id', shortName: 'weird' })).toEqual(['name:weird']);
  });

  test('a list mixing SPDX and named licences keeps separate entries', () => {
    expect(describeLicences([{ spdxId: 'MIT' }, { fullName: 'Unfree' }, 'Apache-2.0 OR MIT'])).toEqual([
      'id:MIT',
      'name:Unfree',
      'name:Apache-2.0 OR MIT',
    ]);
  });

  test('missing or empty licences give nothing', () => {
    expect(describeLicences(undefined)).toEqual([]);
    expect(describeLicences(null)).toEqual([]);
    expect(describeLicences([])).toEqual([]);
    expect(describeLicences('  ')).toEqual([]);
    expect(describeLicences([{}])).toEqual([]);
  });

  test('summary joins entries that all apply', () => {
    expect(licenceSummary(licencesOf([{ spdxId: 'MIT' }, { fullName: 'Unfree' }]))).toBe('MIT AND Unfree');
    expect(licenceSummary([])).toBeUndefined();
  });
});

describe('parseSpdxExpression', () => {
  test.each([
    ['MIT AND (Apache-2.0 OR BSD-2-Clause)', 'MIT AND (Apache-2.0 OR BSD-2-Clause)'],
    ['(MIT AND Apache-2.0) OR BSD-2-Clause', 'MIT AND Apache-2.0 OR BSD-2-Clause'],
    ['LicenseRef-vendor-1.0 AND MIT', 'LicenseRef-vendor-1.0 AND MIT'],
  ])('%s is spelled %s', (input, expected) => {
    expect(parseSpdxExpression(input)).toEqual({ kind: 'expression', expression: expected });
  });

  test.each(['MIT AND', '(MIT', 'MIT Apache-2.0', 'GPL-2.0 WITH', 'Foo Bar', 'MIT AND Not-Real-1.0'])('%s is not an expression', (input) => {
    expect(parseSpdxExpression(input)).toBeUndefined();
  });
});
