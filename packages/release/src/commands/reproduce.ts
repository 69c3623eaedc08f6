/**
 * `pnpm release reproduce [--manifest FILE] [--collection C] [--json]`
 * Rebuilds every image of a release with Nix, recomputes its digest from the
 * rebuilt output without pushing, and records match or mismatch (with the
 * differing layers) in the manifest.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { forEachBounded, ReleaseError, readJsonFile, toJson, validateManifest, writeJsonAtomic } from '@nixrel/core';
import { currentNixSystem, nixEnvFor } from '@nixrel/nix';
import { loadCatalog } from '../catalog.js';
import { type Command, displayPath, parseCommandArgs } from '../cli-context.js';
import { flakeRef } from '../stages/build.js';
import { reproduceImage } from '../stages/reproduce.js';
import { readPointer } from '../state.js';
import { DEFAULT_COLLECTION } from './release-args.js';

export const USAGE = 'usage: pnpm release reproduce [--manifest FILE] [--collection C] [--json]';
const FLAGS = { manifest: { type: 'string' }, collection: { type: 'string' }, json: { type: 'boolean' } } as const;

export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, FLAGS, USAGE);
  const { values } = parsed;
  let manifestPath = values.manifest ? resolve(ctx.env.INIT_CWD ?? ctx.repoRoot, values.manifest) : undefined;
  if (!manifestPath) {
    const collection = values.collection ?? DEFAULT_COLLECTION;
    const last = await readPointer(join(ctx.repoRoot, '.release'), collection);
    if (!last) throw new ReleaseError('NOT_FOUND', `no release of "${collection}" in .release/: pass --manifest FILE`);
    manifestPath = join(ctx.repoRoot, '.release', last.version, 'release.json');
  }
  if (!existsSync(manifestPath)) throw new ReleaseError('NOT_FOUND', `release manifest not found: ${manifestPath}`);
  const manifest = validateManifest(await readJsonFile(manifestPath, 'release manifest'), manifestPath);
  const catalog = await loadCatalog(ctx.repoRoot);
  const env = nixEnvFor(ctx.env);
  const system = currentNixSystem();

  await forEachBounded(manifest.images, 1, async (image) => {
    const spec = catalog.find((s) => s.name === image.name && s.collection === image.collection);
    if (!spec) throw new ReleaseError('NOT_FOUND', `image "${image.name}" of the manifest is not in this checkout's catalog`);
    const installable = `${flakeRef(ctx.repoRoot, spec.flake)}#packages.${image.build?.system ?? system}.${spec.attribute}`;
    ctx.logger.info(`${image.name}: rebuilding ${installable}`);
    image.reproducibility = await reproduceImage(image, { env, cwd: ctx.repoRoot, installable });
  }, 'images');
  await writeJsonAtomic(manifestPath, validateManifest(manifest, manifestPath));
  // Keep the release's state records in step, so a re-render of the page shows it.
  const stateDir = dirname(manifestPath);
  for (const image of manifest.images) {
    const recordPath = join(stateDir, 'images', `${image.name}.json`);
    if (existsSync(recordPath)) await writeJsonAtomic(recordPath, image);
  }

  if (values.json) ctx.out(toJson(manifest.images.map((i) => ({ name: i.name, digest: i.digest, ...i.reproducibility }))));
  else {
    for (const i of manifest.images) {
      const r = i.reproducibility!;
      ctx.out(
        r.match
          ? `${i.name}: reproduced ${i.digest}`
          : `${i.name}: NOT reproducible: rebuilt ${r.rebuiltDigest}, released ${i.digest}; differing layers: ${r.differingLayers.map((l) => `#${l.index} ${l.expected} -> ${l.actual}`).join(', ')}`,
      );
    }
    ctx.out(`recorded in ${displayPath(ctx, manifestPath)}`);
  }
  // Recorded and printed first; then the command fails (the CLI sets the exit code from the error).
  const differ = manifest.images.filter((i) => !i.reproducibility?.match).map((i) => i.name);
  if (differ.length > 0) throw new ReleaseError('DIGEST_MISMATCH', `not reproducible: ${differ.join(', ')} (recorded in ${manifestPath})`);
};
