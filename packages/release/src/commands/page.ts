/**
 * `pnpm page --manifest FILE --out DIR <policy flags> [--strict] [--json] [--base-path P]`:
 * verifies the release against the verifier's policy (the same flags as
 * `pnpm verify --manifest`) and renders the provenance page from the manifest
 * and that verification report, so the page says "verified" only for what
 * passed when it was rendered. `--strict` writes nothing and exits non-zero
 * when any check fails (or a required fact is missing).
 *
 * `pnpm page index --site DIR [--json]`: the site's front page (every release
 * under DIR/<collection>/<version>/, newest first) and DIR/<collection>/latest/.
 */
import { resolve } from 'node:path';
import { claimOutputDir, ReleaseError, toJson } from '@nixrel/core';
import { type CliContext, type Command, displayPath, parseCommandArgs } from '../cli-context.js';
import { verifiedPage } from '../verified-page.js';
import { hasPolicyFlags, missingPolicyError, POLICY_FLAGS, POLICY_USAGE, type PolicyFlagValues, policyFromFlags, verifierTuf } from '../verifier-policy.js';
import { readManifestForCheck, reportFailures, verifyRelease } from '../verify-release.js';

export const USAGE = `usage: pnpm page --manifest FILE --out DIR ${POLICY_USAGE} [--strict] [--json] [--base-path PATH]\n       pnpm page index --site DIR [--json]`;
const INDEX_USAGE =
  'usage: pnpm page index --site DIR [--json]\n  writes DIR/index.html (every release under DIR/<collection>/<version>/, newest first) and DIR/<collection>/latest/';
const INDEX_FLAGS = { site: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

async function index(args: string[], ctx: CliContext): Promise<void> {
  const { values } = parseCommandArgs(args, INDEX_FLAGS, INDEX_USAGE);
  if (values.help) {
    ctx.out(INDEX_USAGE);
    return;
  }
  if (!values.site) throw new ReleaseError('USAGE', `--site is required\n${INDEX_USAGE}`);
  const site = resolve(ctx.env.INIT_CWD ?? process.cwd(), values.site);
  const { writeSiteIndex } = await import('@nixrel/provenance-page');
  const { index: found, files } = await writeSiteIndex(site);
  if (values.json) ctx.out(toJson({ site, files, releases: found.releases }));
  else ctx.out(`wrote ${displayPath(ctx, site)}/index.html: ${found.releases.length} releases of ${found.collections.length} collections`);
}

const FLAGS = {
  manifest: { type: 'string' },
  out: { type: 'string' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
  'base-path': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...POLICY_FLAGS,
} as const;

export const run: Command = async (args: string[], ctx: CliContext) => {
  if (args[0] === 'index') return index(args.slice(1), ctx);
  const { values } = parseCommandArgs(args, FLAGS, USAGE);
  if (values.help) {
    ctx.out(USAGE);
    return;
  }
  if (!values.manifest) throw new ReleaseError('USAGE', `--manifest is required\n${USAGE}`);
  if (!values.out) throw new ReleaseError('USAGE', `--out is required\n${USAGE}`);
  const cwd = ctx.env.INIT_CWD ?? process.cwd();
  const manifestPath = resolve(cwd, values.manifest);
  const outDir = resolve(cwd, values.out);
  const policyValues: PolicyFlagValues = values;
  if (!hasPolicyFlags(policyValues)) {
    const claimed = (await readManifestForCheck(manifestPath)).data.signer;
    throw missingPolicyError(claimed, `pnpm page --manifest ${values.manifest} --out ${values.out}`, USAGE);
  }
  const verifier = await policyFromFlags(policyValues, { usage: USAGE, tuf: verifierTuf(ctx.repoRoot, ctx.env) });
  await claimOutputDir(outDir, ctx.repoRoot);
  const report = await verifyRelease({ manifestPath, verifier, registry: { logger: ctx.logger, env: ctx.env, retry: { attempts: 2 } } });
  const result = await verifiedPage({
    manifestPath,
    outDir,
    report,
    strict: values.strict ?? false,
    ...(values['base-path'] !== undefined ? { basePath: values['base-path'] } : {}),
  });
  const failed = reportFailures(report);
  if (values.json) {
    ctx.out(toJson({ outDir, files: result.files, missing: result.missing, verification: report }));
  } else {
    ctx.out(`wrote ${result.files.length} files to ${displayPath(ctx, outDir)}`);
    ctx.out(failed.length ? `${failed.length} verification checks FAILED (shown on the page):\n  ${failed.join('\n  ')}` : 'every verification check passed or is shown as not checked');
  }
};
