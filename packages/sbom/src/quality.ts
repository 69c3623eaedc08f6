/**
 * How complete an SBOM is: the share of components carrying each field, and
 * whether the NTIA minimum elements are present for every component.
 */
import type { SbomQuality } from '@nixrel/core';

type Json = Record<string, unknown>;

function nonEmptyArray(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

function nonEmptyString(v: unknown): boolean {
  return typeof v === 'string' && v.trim() !== '';
}

function hasSupplier(c: Json): boolean {
  const s = c['supplier'] as Json | undefined;
  return !!s && (nonEmptyString(s['name']) || nonEmptyArray(s['url']));
}

function hasUniqueId(c: Json): boolean {
  return nonEmptyString(c['purl']) || nonEmptyString(c['cpe']) || !!c['swid'];
}

function share(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

function element(element: string, missing: number, total: number, what: string): SbomQuality['ntia'][number] {
  return missing === 0
    ? { element, satisfied: true }
    : { element, satisfied: false, detail: `${missing} of ${total} components have no ${what}` };
}

export function assessQuality(bomJson: object): SbomQuality {
  const doc = bomJson as Json;
  const components = (Array.isArray(doc['components']) ? doc['components'] : []) as Json[];
  const metadata = (doc['metadata'] ?? {}) as Json;
  const root = metadata['component'] as Json | undefined;
  const n = components.length;
  const count = (test: (c: Json) => boolean) => components.filter(test).length;

  const withLicense = count((c) => nonEmptyArray(c['licenses']));
  const withPurl = count((c) => nonEmptyString(c['purl']));
  const withHash = count((c) => nonEmptyArray(c['hashes']));
  const withSupplier = count(hasSupplier);
  const withVersion = count((c) => nonEmptyString(c['version']));
  const withName = count((c) => nonEmptyString(c['name']));
  const withId = count(hasUniqueId);

  // Dependency relationship: the image lists its direct dependencies and every
  // component has an entry (possibly empty: a leaf) in the graph.
  const deps = (Array.isArray(doc['dependencies']) ? doc['dependencies'] : []) as Json[];
  const inGraph = new Set(deps.map((d) => d['ref']));
  const rootRef = root?.['bom-ref'];
  const rootEntry = deps.find((d) => d['ref'] === rootRef);
  const notInGraph = count((c) => !inGraph.has(c['bom-ref']));
  const rootListsDeps = n === 0 || nonEmptyArray(rootEntry?.['dependsOn']);
  const dependency: SbomQuality['ntia'][number] =
    rootListsDeps && notInGraph === 0
      ? { element: 'Dependency Relationship', satisfied: true }
      : {
          element: 'Dependency Relationship',
          satisfied: false,
          detail: rootListsDeps ? `${notInGraph} of ${n} components are not in the dependency graph` : 'the primary component lists no dependencies',
        };

  const authors = metadata['authors'];
  const timestamp = metadata['timestamp'];
  return {
    components: n,
    withLicense: share(withLicense, n),
    withPurl: share(withPurl, n),
    withHash: share(withHash, n),
    withSupplier: share(withSupplier, n),
    withVersion: share(withVersion, n),
    ntia: [
      element('Supplier Name', n - withSupplier, n, 'supplier'),
      element('Component Name', n - withName, n, 'name'),
      element('Version of the Component', n - withVersion, n, 'version'),
      element('Other Unique Identifiers', n - withId, n, 'purl, CPE or SWID'),
      dependency,
      nonEmptyArray(authors)
        ? { element: 'Author of SBOM Data', satisfied: true }
        : { element: 'Author of SBOM Data', satisfied: false, detail: 'metadata.authors is empty (set the image vendor)' },
      typeof timestamp === 'string' && !Number.isNaN(Date.parse(timestamp))
        ? { element: 'Timestamp', satisfied: true }
        : { element: 'Timestamp', satisfied: false, detail: 'metadata.timestamp is missing' },
    ],
  };
}
