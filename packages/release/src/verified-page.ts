/**
 * The provenance page of a verified release: rendered from the manifest and
 * the verification report of a check made just before, so it says "verified"
 * only for what passed. Strict: nothing is written when any check failed.
 */
import { ReleaseError, type VerificationReport } from '@nixrel/core';
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

