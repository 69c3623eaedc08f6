import { resolve } from 'node:path';
import { claimOutputDir, ReleaseError, type SbomQuality, type SbomRecord } from '@nixrel/core';
import { generateSbom, sbomTimestamp } from '@nixrel/sbom';
import { loadCatalog, selectByFlags } from '../catalog.js';
import { type CliContext, type Command, parseCommandArgs } from '../cli-context.js';
import { readSourceInfo } from '../source.js';
import { buildImages } from '../stages/build.js';

export const USAGE = 'usage: pnpm release sbom --collection <name> [--images a,b] [--out DIR] [--json]';
const DEFAULT_OUT = '.release/sbom';

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** One line of shares and one of NTIA gaps, for people reading the terminal. */
export function qualityLines(q: SbomQuality): string[] {
  const shares = `licence ${percent(q.withLicense)}, purl ${percent(q.withPurl)}, hash ${percent(q.withHash)}, supplier ${percent(q.withSupplier)}, version ${percent(q.withVersion)}`;
  const gaps = q.ntia.filter((e) => !e.satisfied);
  const ntia = gaps.length === 0 ? 'NTIA minimum elements: all present' : `NTIA minimum elements missing: ${gaps.map((e) => `${e.element} (${e.detail ?? 'missing'})`).join('; ')}`;
  return [shares, ntia];
}

/**
 * The SBOM clock: SOURCE_DATE_EPOCH when set, else the commit time of HEAD,
 * so that the same commit gives the same SBOM bytes.
 */
async function sourceDateEpoch(ctx: CliContext): Promise<number> {
  if (ctx.env.SOURCE_DATE_EPOCH !== undefined && ctx.env.SOURCE_DATE_EPOCH !== '') {
    return sbomTimestamp(ctx.env).getTime() / 1000;
  }
  const { commitTime } = await readSourceInfo(ctx.repoRoot, ctx.env);
  ctx.logger.info(`SOURCE_DATE_EPOCH not set: SBOM timestamps use the commit time of HEAD (${commitTime})`);
  return commitTime;
}

/** Builds the images if needed and writes `<name>.cdx.json` for each, validated. */
export const run: Command = async (args, ctx) => {
  const { values } = parseCommandArgs(args, { collection: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (values.out !== undefined && values.out.trim() === '') throw new ReleaseError('USAGE', `--out needs a directory\n${USAGE}`);
  const catalog = await loadCatalog(ctx.repoRoot);
  const specs = selectByFlags(catalog, values, USAGE);

  // Settle the clock before building, so a bad SOURCE_DATE_EPOCH fails fast.
  const epoch = await sourceDateEpoch(ctx);
  const outDir = resolve(ctx.env.INIT_CWD ?? ctx.repoRoot, values.out ?? resolve(ctx.repoRoot, DEFAULT_OUT));
  // Never overwrite files the tool did not write: checked before building.
  await claimOutputDir(outDir, ctx.repoRoot);
  const artifacts = await buildImages(specs, { repoRoot: ctx.repoRoot, logger: ctx.logger, env: ctx.env });

  const results: (SbomRecord & { name: string })[] = [];
  for (const artifact of artifacts) {
    const record = await generateSbom({
      closureFile: artifact.closurePath,
      outFile: resolve(outDir, `${artifact.name}.cdx.json`),
      sourceDateEpoch: epoch,
      checkStore: true,
    });
    ctx.logger.info(`${artifact.name}: ${record.components} components, SBOM ${record.path}`);
    results.push({ name: artifact.name, ...record });
  }

  if (values.json) {
    ctx.out(JSON.stringify({ images: results }, null, 2));
    return;
  }
  for (const r of results) {
    const licences = Object.entries(r.licences).map(([l, n]) => `${l} (${n})`).join(', ') || 'none known';
    ctx.out([`${r.name}: ${r.components} components -> ${r.path}`, `  digest ${r.digest}`, `  licences: ${licences}`, ...qualityLines(r.quality).map((l) => `  ${l}`)].join('\n'));
  }
};
