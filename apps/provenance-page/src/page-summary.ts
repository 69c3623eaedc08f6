/**
 * page.json, written next to index.html: what the page said when it was
 * rendered, in a form the site index reads without parsing HTML.
 */
import type { VerificationReport } from '@nixrel/core';
import type { PageModel } from './page-model.js';

export interface PageSummaryFile {
  collection: string;
  version: string;
  date: string;
  slsaLevel: number;
  images: number;
  verification: { rendered: boolean; passed: number; total: number; checkedAt?: string };
  reproduced: number;
  changes: string;
  /** The policy the verifier chose for the report the page shows, so the page can be re-rendered with it. */
  policy?: VerificationReport['policy'];
}

export function pageSummary(page: PageModel, policy?: VerificationReport['policy']): PageSummaryFile {
  const v = page.summary.verification;
  const verification: PageSummaryFile['verification'] = { rendered: v.rendered, passed: v.passed, total: v.total };
  if (v.checkedAt) verification.checkedAt = v.checkedAt;
  return {
    collection: page.collection,
    version: page.version,
    date: page.date,
    slsaLevel: page.slsa.level,
    images: page.summary.images,
    verification,
    reproduced: page.summary.reproduced,
    changes: page.summary.changes.text,
    ...(policy ? { policy } : {}),
  };
}
