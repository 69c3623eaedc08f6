/**
 * `pnpm release reproduce [--manifest FILE] [--collection C] [--page DIR] [<policy>] [--json]`
 * Rebuilds every image of a release with Nix, recomputes its digest from the
 * rebuilt output without pushing, and records match or mismatch (with the
 * differing layers) in the manifest. Then the release's page (`--page`, else
 * the `site/<version>` the release wrote) is verified again and re-rendered,
 * so it shows the result: with the policy flags given, else with the policy
 * the page was rendered with (its page.json); without either, it says so and
 * names the `pnpm page` command that would do it.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  assertOutputDir,
  forEachBounded,
  OUTPUT_MARKER,
  ReleaseError,
  type ReleaseManifest,
  readJsonFile,
  toJson,
  validateManifest,
  writeJsonAtomic,
} from '@nixrel/core';
import { currentNixSystem, nixEnvFor } from '@nixrel/nix';
import type { PageSummaryFile } from '@nixrel/provenance-page';
import { loadCatalog } from '../catalog.js';
import { type CliContext, type Command, displayPath, parseCommandArgs } from '../cli-context.js';
import { flakeRef } from '../stages/build.js';
import { reproduceImage } from '../stages/reproduce.js';
import { movePageIntoPlace, PAGE_STAGING_DIR, stagePage } from '../verified-page.js';
import { hasPolicyFlags, POLICY_FLAGS, POLICY_USAGE, type PolicyFlagValues, policyFromFlags, recordedPolicy, type VerifierPolicy, verifierTuf } from '../verifier-policy.js';
import { reportFailures, verifyRelease } from '../verify-release.js';
import { manifestPathArg } from './manifest-arg.js';

export const USAGE = `usage: pnpm release reproduce [--manifest FILE] [--collection C] [--page DIR] [${POLICY_USAGE}] [--json]`;
const FLAGS = { manifest: { type: 'string' }, collection: { type: 'string' }, page: { type: 'string' }, json: { type: 'boolean' }, ...POLICY_FLAGS } as const;

/** The page to re-render and the policy to verify it with, or why it is not re-rendered. */
type PagePlan = { dir: string; verifier: VerifierPolicy } | { note: string };

/** A path as `pnpm page` would take it from where this command was run. */
function argPath(ctx: CliContext, path: string): string {
  const rel = relative(ctx.env.INIT_CWD ?? ctx.repoRoot, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Decided before any rebuild, so bad flags, a directory the tool did not write or a wrong key fail at once. */
async function planPage(values: PolicyFlagValues & { page?: string }, ctx: CliContext, manifest: ReleaseManifest, manifestPath: string): Promise<PagePlan> {
  const dir = values.page ? resolve(ctx.env.INIT_CWD ?? ctx.repoRoot, values.page) : join(ctx.repoRoot, 'site', manifest.version);
  if (values.page) await assertOutputDir(dir, ctx.repoRoot, '--page');
  const tuf = verifierTuf(ctx.repoRoot, ctx.env);
  if (hasPolicyFlags(values)) return { dir, verifier: await policyFromFlags(values, { usage: USAGE, tuf }) };
  const policyFlags = manifest.signer.mode === 'key' ? '--key FILE' : '--certificate-identity ID --certificate-oidc-issuer URL [--trusted-root FILE]';
  const command = `pnpm page --manifest ${argPath(ctx, manifestPath)} --out ${argPath(ctx, dir)} ${policyFlags}`;
  const summaryPath = join(dir, 'page.json');
  if (!existsSync(join(dir, OUTPUT_MARKER)) || !existsSync(summaryPath)) {
    return { note: `no page at ${displayPath(ctx, dir)} was re-rendered; to verify the release and render it: ${command}` };
  }
  const summary = (await readJsonFile(summaryPath, 'page summary')) as Partial<PageSummaryFile>;
  const verifier = await recordedPolicy(summary.policy, { stateDir: dirname(manifestPath), tuf });
  if ('reason' in verifier) return { note: `page ${displayPath(ctx, dir)} not re-rendered: ${verifier.reason}; to verify the release and render it: ${command}` };
  return { dir, verifier };
}

/** Verifies the release with the plan's policy and replaces the page with one rendered from that report; returns what to print. */
async function rerenderPage(plan: { dir: string; verifier: VerifierPolicy }, ctx: CliContext, manifestPath: string): Promise<string> {
  ctx.logger.info(`verifying the release and rendering ${displayPath(ctx, plan.dir)}`);
  const report = await verifyRelease({ manifestPath, verifier: plan.verifier, registry: { logger: ctx.logger, env: ctx.env, retry: { attempts: 2 } } });
  // Rendered aside and moved into place whole, as the release does: a failed render leaves the old page.
  const staging = join(dirname(manifestPath), PAGE_STAGING_DIR);
  await stagePage({ manifestPath, staging, report, strict: false });
  await movePageIntoPlace(staging, plan.dir);
  const failed = reportFailures(report);
  const shown = `page ${displayPath(ctx, plan.dir)} re-rendered`;
  return failed.length ? `${shown}: ${failed.length} verification checks FAILED (shown on the page):\n  ${failed.join('\n  ')}` : `${shown}: every verification check passed or is shown as not checked`;
}

export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, FLAGS, USAGE);
  const { values } = parsed;
  const manifestPath = await manifestPathArg(values, ctx);
  const manifest = validateManifest(await readJsonFile(manifestPath, 'release manifest'), manifestPath);
  const page = await planPage(values, ctx, manifest, manifestPath);
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
  const pageLine = 'note' in page ? page.note : await rerenderPage(page, ctx, manifestPath);

  if (values.json) {
    ctx.out(toJson(manifest.images.map((i) => ({ name: i.name, digest: i.digest, ...i.reproducibility }))));
    ctx.logger.info(pageLine);
  } else {
    for (const i of manifest.images) {
      const r = i.reproducibility!;
      ctx.out(
        r.match
          ? `${i.name}: reproduced ${i.digest}`
          : `${i.name}: NOT reproducible: rebuilt ${r.rebuiltDigest}, released ${i.digest}; differing layers: ${r.differingLayers.map((l) => `#${l.index} ${l.expected} -> ${l.actual}`).join(', ')}`,
      );
    }
    ctx.out(`recorded in ${displayPath(ctx, manifestPath)}`);
    ctx.out(pageLine);
  }
  // Recorded, rendered and printed first; then the command fails (the CLI sets the exit code from the error).
  const differ = manifest.images.filter((i) => !i.reproducibility?.match).map((i) => i.name);
  if (differ.length > 0) throw new ReleaseError('DIGEST_MISMATCH', `not reproducible: ${differ.join(', ')} (recorded in ${manifestPath})`);
};
