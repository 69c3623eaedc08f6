import { describe, expect, test } from 'vitest';
import { closureToBom } from '../src/closure-to-bom.js';
import { assessQuality } from '../src/quality.js';
import { serializeBom } from '../src/serialize.js';
import { closure, helloClosure, pathEntry, storePath } from './fixtures.js';

function doc(c = helloClosure()) {
  return JSON.parse(serializeBom(closureToBom(c, { timestamp: new Date(0), toolVersion: '0.1.0' })));
}

describe('assessQuality', () => {
  test('shares of components with each field', () => {
    // hello: licence, purl, hash, version; glibc: all of them plus a GitHub supplier; config.json: purl and hash only.
    expect(assessQuality(doc())).toMatchObject({
      components: 3,
      withLicense: 2 / 3,
      withPurl: 1,
      withHash: 1,
      withSupplier: 1 / 3,
      withVersion: 2 / 3,
    });
  });

  test('NTIA minimum elements, with what is missing', () => {
    const q = assessQuality(doc());
    const by = Object.fromEntries(q.ntia.map((e) => [e.element, e]));
    expect(Object.keys(by)).toEqual([
      'Supplier Name',
      'Component Name',
      'Version of the Component',
      'Other Unique Identifiers',
      'Dependency Relationship',
      'Author of SBOM Data',
      'Timestamp',
    ]);
    expect(by['Supplier Name']).toEqual({ element: 'Supplier Name', satisfied: false, detail: '2 of 3 components have no supplier' });
    expect(by['Version of the Component']?.satisfied).toBe(false);
    for (const ok of ['Component Name', 'Other Unique Identifiers', 'Dependency Relationship', 'Author of SBOM Data', 'Timestamp']) {
      expect(by[ok]?.satisfied, ok).toBe(true);
    }
  });

  test('no vendor: no author of the SBOM data; no dependencies from the image: no relationship', () => {
    const p = storePath('a-1.0');
    const d = doc(closure({ paths: [pathEntry(p)], vendor: '' }));
    const by = Object.fromEntries(assessQuality(d).ntia.map((e) => [e.element, e]));
    expect(by['Author of SBOM Data']?.satisfied).toBe(false);
    d.dependencies = d.dependencies.filter((x: { ref: string }) => x.ref !== d.metadata.component['bom-ref']);
    expect(Object.fromEntries(assessQuality(d).ntia.map((e) => [e.element, e]))['Dependency Relationship']).toMatchObject({
      satisfied: false,
      detail: 'the primary component lists no dependencies',
    });
    delete d.metadata.timestamp;
    expect(assessQuality(d).ntia.find((e) => e.element === 'Timestamp')?.satisfied).toBe(false);
  });

  test('an empty document scores zero without dividing by zero', () => {
    expect(assessQuality({})).toMatchObject({ components: 0, withLicense: 0, withPurl: 0 });
  });
});
