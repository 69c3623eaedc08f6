import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { closureToBom } from '../src/closure-to-bom.js';
import { groupPackages } from '../src/packages.js';
import { serializeBom } from '../src/serialize.js';
import { validateBom } from '../src/validate.js';
import { closure, helloClosure, narHash, pathEntry, storePath } from './fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: the documents under test are walked loosely
type Json = Record<string, any>;
const OPTS = { timestamp: new Date(1_700_000_000_000), toolVersion: '0.1.0' };

function bomJson(c = helloClosure(), opts: Partial<typeof OPTS & { image: { digest?: string; repositoryUrl?: string } }> = {}): Json {
  return JSON.parse(serializeBom(closureToBom(c, { ...OPTS, ...opts })));
}

function component(doc: Json, name: string): Json {
  const found = doc.components.filter((c: Json) => c.name === name);
  expect(found).toHaveLength(1);
  return found[0];
}

function props(c: Json, name: string): string[] {
  return c.properties.filter((p: Json) => p.name === name).map((p: Json) => p.value);
}

function dependsOn(doc: Json, ref: string): string[] | undefined {
  return doc.dependencies.find((d: Json) => d.ref === ref)?.dependsOn;
}

describe('closureToBom', () => {
  test('outputs of one derivation are one component; doc/man outputs are left out', () => {
    const doc = bomJson();
    expect(doc.components.map((c: Json) => c.name).sort()).toEqual(['config.json', 'glibc', 'hello']);
    const glibc = component(doc, 'glibc');
    expect(props(glibc, 'nix:store_path')).toEqual([storePath('glibc-2.38'), storePath('glibc-2.38-bin')]);
    expect(props(glibc, 'nix:narinfo:nar_size')).toHaveLength(2);
    expect(glibc['bom-ref']).toBe(storePath('glibc-2.38'));
    const all = doc.components.flatMap((c: Json) => props(c, 'nix:store_path'));
    expect(all).not.toContain(storePath('hello-2.12.1-man'));
  });

  test('a component carries name, version, purl, NAR hash in hex, licences, references and nix properties', () => {
    const hello = component(bomJson(), 'hello');
    expect(hello).toMatchObject({
      type: 'application',
      version: '2.12.1',
      scope: 'required',
      purl: expect.stringMatching(/^pkg:generic\/hello@2\.12\.1\?checksum=sha256%3A[0-9a-f]{64}&download_url=https%3A%2F%2Fftpmirror\.gnu\.org/),
      licenses: [{ license: { id: 'GPL-3.0-or-later' } }],
      description: 'A program that produces a familiar, friendly greeting',
    });
    expect(hello.hashes).toEqual([{ alg: 'SHA-256', content: Buffer.from(narHashBytes(storePath('hello-2.12.1'))).toString('hex') }]);
    expect(hello.externalReferences.map((r: Json) => r.type)).toEqual(['website', 'source-distribution']);
    expect(props(hello, 'nix:narinfo:nar_hash')).toEqual([narHash(storePath('hello-2.12.1'))]);
    expect(props(hello, 'nix:narinfo:deriver')).toEqual(['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-2.12.1.drv']);
    expect(hello.pedigree).toEqual({ patches: [{ type: 'unofficial', diff: { url: '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-fix.patch' } }] });
  });

  test('a store path without derivation metadata is still a component, named from the path', () => {
    const file = component(bomJson(), 'config.json');
    expect(file).toMatchObject({ type: 'file', purl: 'pkg:nix/config.json', 'bom-ref': storePath('config.json') });
    expect(file.version).toBeUndefined();
    const versioned = bomJson(closure({ paths: [pathEntry(storePath('busybox-1.36.1'))] }));
    expect(component(versioned, 'busybox')).toMatchObject({ version: '1.36.1', purl: 'pkg:nix/busybox@1.36.1' });
  });

  test('the image is metadata.component and depends on the roots; edges follow store references', () => {
    const doc = bomJson(helloClosure(), { image: { digest: `sha256:${'b'.repeat(64)}`, repositoryUrl: 'ghcr.io/acme/hello' } });
    const root = doc.metadata.component;
    expect(root).toMatchObject({
      type: 'container',
      name: 'hello',
      version: '2.12.1',
      purl: `pkg:oci/hello@sha256:${'b'.repeat(64)}?repository_url=ghcr.io%2Facme%2Fhello`,
      supplier: { name: 'Example Org' },
      licenses: [{ license: { id: 'GPL-3.0-or-later' } }],
    });
    expect(doc.metadata.authors).toEqual([{ name: 'Example Org' }]);
    expect(doc.metadata.tools.components.map((t: Json) => `${t.group}/${t.name}`)).toEqual(['@nixrel/sbom', '@cyclonedx/cyclonedx-library']);
    expect(dependsOn(doc, root['bom-ref'])).toEqual([storePath('hello-2.12.1')]);
    // hello -> glibc and the file; its self reference and the man page are gone.
    expect(dependsOn(doc, storePath('hello-2.12.1'))).toEqual([storePath('glibc-2.38'), storePath('config.json')].sort());
    // glibc -> glibc-bin -> glibc: merged, so no edge (and no self edge) remains.
    expect(dependsOn(doc, storePath('glibc-2.38'))).toBeUndefined();
  });

  test('without a digest the image has no purl but a stable bom-ref', () => {
    const root = bomJson().metadata.component;
    expect(root.purl).toBeUndefined();
    expect(root['bom-ref']).toBe('image:hello');
  });

  test('cycles between packages are kept as edges and do not loop', async () => {
    const a = storePath('a-1.0');
    const b = storePath('b-1.0');
    const c = storePath('c-1.0');
    const doc = bomJson(closure({ paths: [pathEntry(a, [b]), pathEntry(b, [c]), pathEntry(c, [a])] }));
    expect(dependsOn(doc, a)).toEqual([b]);
    expect(dependsOn(doc, b)).toEqual([c]);
    expect(dependsOn(doc, c)).toEqual([a]);
    await validateBom(JSON.stringify(doc));
  });

  test('duplicates: repeated derivation entries, shared output paths, same name and version twice', async () => {
    const x1 = storePath('openssl-3.0.13', 'one');
    const x2 = storePath('openssl-3.0.13', 'two');
    const drv = (out: string, drvPath: string) => ({ drvPath, name: 'openssl-3.0.13', pname: 'openssl', version: '3.0.13', outputs: { out }, meta: {} });
    const c = closure({
      paths: [pathEntry(x1, [x2]), pathEntry(x2)],
      derivations: [drv(x1, '/nix/store/11111111111111111111111111111111-openssl.drv'), drv(x1, '/nix/store/11111111111111111111111111111111-openssl.drv'), drv(x2, '/nix/store/22222222222222222222222222222222-openssl.drv')],
    });
    const doc = bomJson(c);
    expect(doc.components).toHaveLength(2);
    expect(new Set(doc.components.map((x: Json) => x['bom-ref'])).size).toBe(2);
    await validateBom(JSON.stringify(doc));
  });

  test('names and versions with odd characters survive into valid purls and a valid document', async () => {
    const p = storePath('my+pkg_name.v2-1.0-rc.1+git=2024?x');
    const c = closure({
      paths: [pathEntry(p)],
      derivations: [{ name: 'my+pkg_name.v2-1.0-rc.1+git=2024?x', outputs: { out: p }, meta: { homepage: 'https://example.org/a b' } }],
    });
    const doc = bomJson(c);
    const x = doc.components[0];
    expect(x.name).toBe('my+pkg_name.v2');
    expect(x.version).toBe('1.0-rc.1+git=2024?x');
    expect(x.purl).toBe('pkg:nix/my%2Bpkg_name.v2@1.0-rc.1+git%3D2024%3Fx');
    await validateBom(JSON.stringify(doc));
  });

  test('the same closure gives byte-identical output; a different one a different serial number', () => {
    const one = serializeBom(closureToBom(helloClosure(), OPTS));
    const two = serializeBom(closureToBom(structuredClone(helloClosure()), OPTS));
    expect(two).toBe(one);
    const doc = JSON.parse(one);
    expect(doc.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(doc.metadata.timestamp).toBe('2023-11-14T22:13:20.000Z');
    const changed = helloClosure();
    changed.paths[4]!.narSize += 1;
    expect(JSON.parse(serializeBom(closureToBom(changed, OPTS))).serialNumber).not.toBe(doc.serialNumber);
  });

  test('order does not depend on the order of the export', () => {
    const c = helloClosure();
    const reversed = { ...c, paths: [...c.paths].reverse(), derivations: [...c.derivations].reverse() };
    expect(serializeBom(closureToBom(reversed, OPTS))).toBe(serializeBom(closureToBom(c, OPTS)));
  });

  test('groupPackages reports excluded documentation outputs', () => {
    const graph = groupPackages(helloClosure());
    expect(graph.excluded).toEqual([storePath('hello-2.12.1-man')]);
    expect(graph.roots).toEqual([storePath('hello-2.12.1')]);
  });
});

function narHashBytes(path: string): Uint8Array {
  // The fixture's NAR hash is sha256(path) written in Nix base32.
  return new Uint8Array(createHash('sha256').update(path).digest());
}
