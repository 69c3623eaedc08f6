import { ReleaseError } from '@nixrel/core';
import { makeTempTree } from '@nixrel/testkit/nix';
import { describe, expect, it } from 'vitest';
import { loadCatalog, selectImages } from '../src/catalog.js';
import { repoRoot } from './image-test-helpers.js';

const SEVEN = ['minio', 'postgres', 'redis', 'sbomify-app', 'sbomify-caddy-dev', 'sbomify-keycloak', 'sbomify-minio-init'];

function imagePackage(name: string, collection: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: `@images/${name}`, private: true, version: '0.0.0', image: { name, collection, title: name, description: `${name} image`, ...extra } });
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<ReleaseError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof ReleaseError) return e;
    throw e;
  }
  throw new Error('expected a ReleaseError');
}

describe('loadCatalog on this repository', () => {
  it('finds the seven sbomify images and the example images', async () => {
    const catalog = await loadCatalog(repoRoot);
    expect(catalog.filter((s) => s.collection === 'sbomify').map((s) => s.name)).toEqual(SEVEN);
    expect(catalog.filter((s) => s.collection === 'example').map((s) => s.name)).toEqual(['greeter', 'hello', 'toolbox']);
    const postgres = catalog.find((s) => s.name === 'postgres')!;
    expect(postgres).toMatchObject({ flake: '.', attribute: 'postgres', packageDir: 'packages/images/postgres', packageName: '@images/postgres' });
    expect(postgres.metadata.licenses).toBe('PostgreSQL');
    expect(catalog.find((s) => s.name === 'hello')).toMatchObject({ flake: 'examples', packageDir: 'examples/images/hello' });
  });
});

describe('loadCatalog validation', () => {
  it('rejects an invalid image name, naming the file', async () => {
    const t = await makeTempTree({ 'examples/images/Bad_Name/package.json': imagePackage('Bad_Name', 'example'), 'examples/images/Bad_Name/image.nix': '{ ... }: { }' });
    try {
      const err = await caught(loadCatalog(t.dir));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toContain('examples/images/Bad_Name/package.json');
      expect(err.message).toContain('"Bad_Name"');
    } finally {
      await t.cleanup();
    }
  });

  it('rejects a duplicate name across collections, naming both places', async () => {
    const t = await makeTempTree({
      'examples/images/twin/package.json': imagePackage('twin', 'example'),
      'examples/images/twin/image.nix': '{ ... }: { }',
      'packages/images/twin/package.json': imagePackage('twin', 'sbomify'),
      'packages/images/twin/image.nix': '{ ... }: { }',
    });
    try {
      const err = await caught(loadCatalog(t.dir));
      expect(err.code).toBe('CONFLICT');
      expect(err.message).toContain('"twin"');
      expect(err.message).toContain('packages/images/twin');
      expect(err.message).toContain('examples/images/twin');
    } finally {
      await t.cleanup();
    }
  });

  it.each([
    ['a package.json without image.nix', { 'examples/images/x/package.json': imagePackage('x', 'example') }, /has a package.json but no image.nix/],
    ['an image.nix without package.json', { 'examples/images/x/image.nix': '{ ... }: { }' }, /has an image.nix but no package.json/],
    ['a collection that does not match the folder', { 'examples/images/x/package.json': imagePackage('x', 'sbomify'), 'examples/images/x/image.nix': '' }, /belong to "example"/],
    ['a name that is not the folder name', { 'examples/images/x/package.json': imagePackage('y', 'example'), 'examples/images/x/image.nix': '' }, /must equal its folder name "x"/],
    ['a missing description', { 'examples/images/x/package.json': imagePackage('x', 'example', { description: undefined }), 'examples/images/x/image.nix': '' }, /package\.json is not valid: \/image: must have required property 'description'/],
    ['an empty title', { 'examples/images/x/package.json': imagePackage('x', 'example', { title: ' ' }), 'examples/images/x/image.nix': '' }, /\/image\/title: must match pattern/],
    ['a field the catalog does not know', { 'examples/images/x/package.json': imagePackage('x', 'example', { apVersion: true }), 'examples/images/x/image.nix': '' }, /\/image: must NOT have additional properties "apVersion"/],
    ['no image block', { 'examples/images/x/package.json': '{"name": "@images/x"}', 'examples/images/x/image.nix': '' }, /\/: must have required property 'image'/],
    ['a JSON array', { 'examples/images/x/package.json': '[]', 'examples/images/x/image.nix': '' }, /\/: must be object/],
    ['broken JSON', { 'examples/images/x/package.json': '{ nope', 'examples/images/x/image.nix': '' }, /not valid JSON/],
  ])('rejects %s', async (_what, files, message) => {
    const t = await makeTempTree(files as Record<string, string>);
    try {
      const err = await caught(loadCatalog(t.dir));
      expect(err.message).toMatch(message);
      expect(err.message).toContain('examples/images/x');
    } finally {
      await t.cleanup();
    }
  });
});

describe('selectImages', () => {
  it('selects by collection and by name', async () => {
    const catalog = await loadCatalog(repoRoot);
    expect(selectImages(catalog, { collection: 'sbomify' }).map((s) => s.name)).toEqual(SEVEN);
    expect(selectImages(catalog, { collection: 'example', images: ['toolbox', 'hello'] }).map((s) => s.name)).toEqual(['toolbox', 'hello']);
    expect(selectImages(catalog, { images: ['redis'] }).map((s) => s.collection)).toEqual(['sbomify']);
  });

  it('names an unknown collection and lists the known ones', async () => {
    const catalog = await loadCatalog(repoRoot);
    const err = await caught(() => selectImages(catalog, { collection: 'nope' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain('example, sbomify');
  });

  it('names an unknown image and lists the images of the collection', async () => {
    const catalog = await loadCatalog(repoRoot);
    const err = await caught(() => selectImages(catalog, { collection: 'example', images: ['hello', 'postgres'] }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain('"postgres"');
    expect(err.message).toContain('greeter, hello, toolbox');
  });
});
