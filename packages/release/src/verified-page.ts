/**
 * The provenance page of a verified release: rendered from the manifest and
 * the verification report of a check made just before, so it says "verified"
 * only for what passed. Strict: nothing is written when any check failed.
 */
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { markOutputDir, ReleaseError, type VerificationReport } from '@nixrel/core';
import { reportFailures } from './verify-release.js';

/** Renders the page of `manifestPath` into `outDir` with `report`; used by `pnpm page` and the release's page step. */
export async function verifiedPage(opts: {
  manifestPath: string;
  outDir: string;
  report: VerificationReport;
  strict: boolean;
  basePath?: string;
}): Promise<{ files: string[]; missing: unknown[] }> {
  const failures = reportFailures(opts.report);
  if (opts.strict && failures.length > 0) {
    throw new ReleaseError('VERIFICATION_FAILED', `${opts.manifestPath} does not verify; no page written (--strict)`, { details: failures });
  }
  // Loaded only when a page is rendered: the templates are heavy to import.
  const { renderPage } = await import('@nixrel/provenance-page');
  return renderPage({
    manifestPath: opts.manifestPath,
    outDir: opts.outDir,
    strict: opts.strict,
    verification: opts.report,
    ...(opts.basePath !== undefined ? { basePath: opts.basePath } : {}),
  });
}


/** Where, in the release's state directory, a page is rendered before it replaces the published one. */
export const PAGE_STAGING_DIR = 'page.partial';

/** Renders the page into a fresh `staging` directory, marked as the tool's, ready for movePageIntoPlace. */
export async function stagePage(opts: { manifestPath: string; staging: string; report: VerificationReport; strict: boolean }): Promise<void> {
  await rm(opts.staging, { recursive: true, force: true });
  await verifiedPage({ manifestPath: opts.manifestPath, outDir: opts.staging, report: opts.report, strict: opts.strict });
  await markOutputDir(opts.staging);
}

/** Replaces the page directory (checked to be the tool's by assertOutputDir) with the rendered one. */
export async function movePageIntoPlace(staging: string, pageDir: string): Promise<void> {
  await rm(pageDir, { recursive: true, force: true });
  await mkdir(dirname(pageDir), { recursive: true });
  await rename(staging, pageDir).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EXDEV') throw e;
    await cp(staging, pageDir, { recursive: true });
    await rm(staging, { recursive: true, force: true });
  });
}
