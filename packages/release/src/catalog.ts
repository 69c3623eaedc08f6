import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertImageName, assertSchema, type ImageMetadata, type ImageSpec, isReleaseError, ReleaseError, readJsonFile, schemaRef } from '@nixrel/core';

/**
 * Where each collection's image packages live and which flake builds them.
 * The directory listing is the catalog: a folder with image.nix and a
 * package.json is an image (the flakes discover the same folders with
 * builtins.readDir), so there is no list of images to keep in step.
 */
export const COLLECTIONS: readonly { collection: string; dir: string; flake: string }[] = [
  { collection: 'sbomify', dir: 'packages/images', flake: '.' },
  { collection: 'example', dir: 'examples/images', flake: 'examples' },
];

const NON_EMPTY = { type: 'string', pattern: '\\S' } as const;

/** The `image` block of an image package's package.json: what the catalog reads, and nothing else. */
const IMAGE_PACKAGE_SCHEMA = {
  $id: 'https://github.com/wellmaintained/packages/schema/image-package.schema.json',
  type: 'object',
  required: ['name', 'image'],
  properties: {
    name: { type: 'string' },
    image: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'collection', 'title', 'description'],
      properties: {
        name: { type: 'string' },
        collection: { type: 'string' },
        title: NON_EMPTY,
        description: NON_EMPTY,
        licenses: NON_EMPTY,
        vendor: NON_EMPTY,
        homepage: NON_EMPTY,
        source: NON_EMPTY,
        /** This image lends the collection version its version (one per collection). */
        appVersion: { type: 'boolean' },
      },
    },
  },
} as const;

interface ImagePackageJson {
  name: string;
  image: ImageMetadata & { name: string; collection: string; appVersion?: boolean };
}

async function loadImagePackage(repoRoot: string, root: (typeof COLLECTIONS)[number], folder: string): Promise<ImageSpec | undefined> {
  const packageDir = `${root.dir}/${folder}`;
  const dir = join(repoRoot, packageDir);
  const hasNix = existsSync(join(dir, 'image.nix'));
  const hasPackage = existsSync(join(dir, 'package.json'));
  if (!hasNix && !hasPackage) return undefined; // not an image package (e.g. an empty folder)
  if (!hasNix) throw new ReleaseError('INVALID_INPUT', `${packageDir} has a package.json but no image.nix`);
  if (!hasPackage) throw new ReleaseError('INVALID_INPUT', `${packageDir} has an image.nix but no package.json`);

  const where = `${packageDir}/package.json`;
  const pkg = assertSchema<ImagePackageJson>(schemaRef(IMAGE_PACKAGE_SCHEMA), await readJsonFile(join(dir, 'package.json'), where), where);
  const { image } = pkg;
  const { name } = image;
  try {
    assertImageName(name);
  } catch (e) {
    if (isReleaseError(e)) throw new ReleaseError(e.code, `${where}: ${e.message}`, { cause: e });
    throw e;
  }
  if (name !== folder) throw new ReleaseError('INVALID_INPUT', `${where}: image name "${name}" must equal its folder name "${folder}"`);
  if (pkg.name !== `@images/${name}`) throw new ReleaseError('INVALID_INPUT', `${where}: package name must be "@images/${name}", not ${JSON.stringify(pkg.name)}`);
  if (image.collection !== root.collection) {
    throw new ReleaseError('INVALID_INPUT', `${where}: "image.collection" is ${JSON.stringify(image.collection)}, but images under ${root.dir} belong to "${root.collection}"`);
  }
  return {
    name,
    collection: root.collection,
    flake: root.flake,
    attribute: name,
    packageDir,
    packageName: `@images/${name}`,
    metadata: metadataOf(image),
    ...(image.appVersion ? { appVersion: true } : {}),
  };
}

function metadataOf(image: ImagePackageJson['image']): ImageMetadata {
  const { name: _name, collection: _collection, appVersion: _appVersion, ...metadata } = image;
  return metadata;
}

/** Reads every image package (package.json files only; no Nix evaluation), sorted by collection then name. */
export async function loadCatalog(repoRoot: string): Promise<ImageSpec[]> {
  const specs: ImageSpec[] = [];
  for (const root of COLLECTIONS) {
    const dir = join(repoRoot, root.dir);
    if (!existsSync(dir)) continue;
    const folders = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const folder of folders.sort()) {
      const spec = await loadImagePackage(repoRoot, root, folder);
      if (spec) specs.push(spec);
    }
  }
  const seen = new Map<string, ImageSpec>();
  for (const spec of specs) {
    const other = seen.get(spec.name);
    if (other) {
      throw new ReleaseError('CONFLICT', `duplicate image name "${spec.name}": declared by ${other.packageDir} and ${spec.packageDir}`);
    }
    seen.set(spec.name, spec);
  }
  return specs;
}

export function collectionsOf(catalog: ImageSpec[]): string[] {
  return [...new Set([...COLLECTIONS.map((c) => c.collection), ...catalog.map((s) => s.collection)])].sort();
}

/** Picks images by collection and/or names; anything unknown is NOT_FOUND, naming it and what exists. */
export function selectImages(catalog: ImageSpec[], opts: { collection?: string; images?: string[] } = {}): ImageSpec[] {
  let selected = catalog;
  if (opts.collection !== undefined) {
    const known = collectionsOf(catalog);
    if (!known.includes(opts.collection)) {
      throw new ReleaseError('NOT_FOUND', `unknown collection "${opts.collection}"; collections: ${known.join(', ')}`);
    }
    selected = selected.filter((s) => s.collection === opts.collection);
  }
  if (opts.images && opts.images.length > 0) {
    const byName = new Map(selected.map((s) => [s.name, s]));
    const missing = opts.images.filter((n) => !byName.has(n));
    if (missing.length > 0) {
      const scope = opts.collection ? `collection "${opts.collection}"` : 'the catalog';
      throw new ReleaseError('NOT_FOUND', `unknown image${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} in ${scope}; images: ${[...byName.keys()].join(', ') || '(none)'}`);
    }
    selected = [...new Set(opts.images)].map((n) => byName.get(n)!);
  }
  return selected;
}

/** The images named by a command's `--collection` and `--images a,b` flags. */
export function selectByFlags(catalog: ImageSpec[], flags: { collection?: string; images?: string }, usage: string): ImageSpec[] {
  if (flags.collection === undefined && flags.images === undefined) {
    throw new ReleaseError('USAGE', `name a collection (${collectionsOf(catalog).join(', ')}) or images\n${usage}`);
  }
  const names = flags.images?.split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (flags.images !== undefined && (!names || names.length === 0)) throw new ReleaseError('USAGE', `--images needs at least one name\n${usage}`);
  const specs = selectImages(catalog, { ...(flags.collection === undefined ? {} : { collection: flags.collection }), ...(names ? { images: names } : {}) });
  if (specs.length === 0) throw new ReleaseError('NOT_FOUND', `collection "${flags.collection}" has no images`);
  return specs;
}
