import { currentNixSystem } from '@nixrel/nix';
import { loadCatalog, selectImages } from '../catalog.js';
import { type Command, parseCommandArgs } from '../cli-context.js';

export const USAGE = 'usage: pnpm images [--collection <name>] [--json]';

/** Lists the catalog from the package.json files alone: no Nix evaluation. */
export const run: Command = async (args, ctx) => {
  const { values } = parseCommandArgs(args, { collection: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const catalog = await loadCatalog(ctx.repoRoot);
  const images = selectImages(catalog, values.collection === undefined ? {} : { collection: values.collection });
  const system = currentNixSystem();
  const rows = images.map((s) => ({ ...s, installable: `${s.flake === '.' ? '.' : `./${s.flake}`}#packages.${system}.${s.attribute}` }));
  if (values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
    return;
  }
  const table = [['NAME', 'COLLECTION', 'NIX ATTRIBUTE', 'PACKAGE', 'DESCRIPTION'], ...rows.map((r) => [r.name, r.collection, r.installable, r.packageDir, r.metadata.description])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  ctx.out(table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n'));
};
