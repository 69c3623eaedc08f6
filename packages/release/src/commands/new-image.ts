import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertImageName, ReleaseError, toJson } from '@nixrel/core';
import { COLLECTIONS, loadCatalog } from '../catalog.js';
import { type Command, parseCommandArgs } from '../cli-context.js';

export const USAGE = 'usage: pnpm new-image <name> [--collection example|sbomify] [--from <package attribute>] [--description <text>] [--json]';

/**
 * The default collection is `example`: it builds offline with Nix alone, so a
 * new image can be built the minute it is made. `--collection sbomify` makes a
 * nixpkgs-based image under packages/images instead.
 */
export const DEFAULT_COLLECTION = 'example';

// A Nix attribute path such as `redis` or `python313Packages.gunicorn`.
const ATTR_PATH = /^[A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*$/;

function imageNix(collection: string, name: string, from: string): string {
  const bin = from.split('.').at(-1)!;
  const pkg = `pkgs.${from}`;
  if (collection === 'example') {
    return `# ${name}: an image of the example collection (see examples/nix/packages.nix for the packages).
{ pkgs, ... }:
{
  version = ${pkg}.version;
  contents = [ ${pkg} ];
  config = {
    Entrypoint = [ "\${${pkg}}/bin/${bin}" ];
  };
}
`;
  }
  return `# ${name}: an image built from nixpkgs' ${from} (see nix/default.nix for mkImage's arguments).
{ pkgs, imageLib, ... }:
{
  version = ${pkg}.version;
  contents = [ ${pkg} ];
  config = {
    Entrypoint = [ "\${${pkg}}/bin/${bin}" ];
  };
  metadata.licenses = imageLib.licenseOf ${pkg};
}
`;
}

/** Scaffolds an image package; the flakes and the catalog find it by its folder, so nothing else is edited. */
export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, { collection: { type: 'string' }, from: { type: 'string' }, description: { type: 'string' }, json: { type: 'boolean' } }, USAGE, true);
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new ReleaseError('USAGE', `expected exactly one image name\n${USAGE}`);
  const name = positionals[0]!;
  assertImageName(name);

  const collection = values.collection ?? DEFAULT_COLLECTION;
  const root = COLLECTIONS.find((c) => c.collection === collection);
  if (!root) throw new ReleaseError('NOT_FOUND', `unknown collection "${collection}"; collections: ${COLLECTIONS.map((c) => c.collection).join(', ')}`);

  const from = values.from ?? (collection === 'example' ? 'hello' : name);
  if (!ATTR_PATH.test(from)) throw new ReleaseError('INVALID_INPUT', `invalid --from "${from}": expected a Nix attribute path such as "redis" or "python313Packages.gunicorn"`);

  const catalog = await loadCatalog(ctx.repoRoot);
  const existing = catalog.find((s) => s.name === name);
  if (existing) throw new ReleaseError('CONFLICT', `image "${name}" already exists in collection "${existing.collection}" (${existing.packageDir})`);
  const packageDir = `${root.dir}/${name}`;
  const dir = join(ctx.repoRoot, packageDir);
  if (existsSync(dir)) throw new ReleaseError('CONFLICT', `${packageDir} already exists`);

  const packageJson = {
    name: `@images/${name}`,
    private: true,
    version: '0.0.0',
    image: {
      name,
      collection,
      title: name,
      description: values.description ?? `${name}, built from ${from}`,
    },
  };
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(join(dir, 'image.nix'), imageNix(collection, name, from));
    await writeFile(join(dir, 'package.json'), toJson(packageJson));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  ctx.logger.info(`created ${packageDir} (collection ${collection}, from ${from})`);
  if (values.json) ctx.out(JSON.stringify({ name, collection, packageDir, from }, null, 2));
  else ctx.out(`${packageDir}\n  build it: pnpm release build --collection ${collection} --images ${name}`);
};
