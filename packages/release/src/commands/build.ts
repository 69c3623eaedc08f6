import { loadCatalog, selectByFlags } from '../catalog.js';
import { type Command, parseCommandArgs } from '../cli-context.js';
import { buildImages } from '../stages/build.js';

export const USAGE = 'usage: pnpm release build --collection <name> [--images a,b] [--rebuild] [--json]';

/** Builds images with Nix and prints each artifact (store path, format, metadata). */
export const run: Command = async (args, ctx) => {
  const { values } = parseCommandArgs(args, { collection: { type: 'string' }, images: { type: 'string' }, rebuild: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  const catalog = await loadCatalog(ctx.repoRoot);
  const specs = selectByFlags(catalog, values, USAGE);

  const artifacts = await buildImages(specs, { repoRoot: ctx.repoRoot, logger: ctx.logger, env: ctx.env, rebuild: values.rebuild === true });
  if (values.json) {
    ctx.out(JSON.stringify(artifacts, null, 2));
    return;
  }
  for (const a of artifacts) {
    ctx.out(`${a.name} ${a.version} (${a.format})\n  image: ${a.outPath}\n  sbom input: ${a.closurePath}\n  ${a.metadata.title}: ${a.metadata.description}${a.metadata.licenses ? ` [${a.metadata.licenses}]` : ''}`);
  }
};
