/**
 * What the verifier found when the page was rendered (a VerificationReport
 * from a policy the verifier chose), per image and for the release. The
 * release's own `verification` fields are never read here: without a report
 * the page says "not verified when rendered".
 */
import type { CheckStatus, VerificationCheck, VerificationReport } from '@nixrel/core';
import { formatDate } from './dates.js';

export interface CheckView {
  title: string;
  status: CheckStatus;
  statusText: string;
  detail?: string;
}

export type VerifiedStatus = 'passed' | 'failed' | 'partial' | 'not-verified';

export interface ImageCheckView {
  status: VerifiedStatus;
  /** One or two words for the summary: yes, no, partly, not checked. */
  short: string;
  /** The image entry's label: verified, not verified, partly verified. */
  label: string;
  statusText: string;
  checks: CheckView[];
}

export interface ReleaseCheckView {
  /** True when a report was given. */
  rendered: boolean;
  text: string;
  checkedAt?: string;
  checkedText?: string;
  policy?: string;
  passed: number;
  total: number;
  checks: CheckView[];
  perImage: { name: string; anchor: string; status: VerifiedStatus; short: string }[];
}

const STATUS_TEXT: Record<CheckStatus, string> = { passed: 'passed', failed: 'failed', 'not-checked': 'not checked' };

function checkViews(checks: VerificationCheck[]): CheckView[] {
  return checks.map((c) => {
    const view: CheckView = { title: c.title, status: c.status, statusText: STATUS_TEXT[c.status] };
    if (c.detail !== undefined) view.detail = c.detail;
    return view;
  });
}

function statusOf(checks: VerificationCheck[]): VerifiedStatus {
  if (checks.some((c) => c.status === 'failed')) return 'failed';
  if (checks.length === 0 || checks.some((c) => c.status === 'not-checked')) return 'partial';
  return 'passed';
}

const SHORT: Record<VerifiedStatus, string> = { passed: 'yes', failed: 'no', partial: 'partly', 'not-verified': 'not checked' };
const LABEL: Record<VerifiedStatus, string> = { passed: 'verified', failed: 'not verified', partial: 'partly verified', 'not-verified': 'not checked' };

export function imageChecks(report: VerificationReport | undefined, name: string): ImageCheckView {
  const unchecked = (statusText: string): ImageCheckView => ({ status: 'not-verified', short: SHORT['not-verified'], label: LABEL['not-verified'], statusText, checks: [] });
  if (!report) return unchecked('not verified when rendered');
  const image = report.images.find((i) => i.name === name);
  if (!image) return unchecked('the verifier did not check this image');
  const status = image.ok ? 'passed' : statusOf(image.checks);
  const failed = image.checks.filter((c) => c.status === 'failed').length;
  const notChecked = image.checks.filter((c) => c.status === 'not-checked').length;
  const statusText =
    status === 'passed'
      ? `verified: ${image.checks.length} checks passed`
      : status === 'failed'
        ? `verification failed: ${failed} of ${image.checks.length} checks`
        : `partly verified: ${notChecked} of ${image.checks.length} checks not made`;
  return { status, short: SHORT[status], label: LABEL[status], statusText, checks: checkViews(image.checks) };
}

function policyText(policy: VerificationReport['policy']): string {
  const parts: string[] = [];
  if (policy.mode === 'key') parts.push(`signed by the key ${policy.keyFingerprint ?? '(fingerprint not given)'}`);
  else {
    if (policy.certificateIdentity) parts.push(`signer identity ${policy.certificateIdentity}`);
    if (policy.certificateIdentityRegexp) parts.push(`signer identity matching ${policy.certificateIdentityRegexp}`);
    if (policy.certificateOidcIssuer) parts.push(`issuer ${policy.certificateOidcIssuer}`);
  }
  if (policy.trustedRoot) parts.push(`trusted root ${policy.trustedRoot}`);
  return parts.join(', ');
}

export function releaseChecks(report: VerificationReport | undefined, images: { name: string; anchor: string; verified: ImageCheckView }[]): ReleaseCheckView {
  const perImage = images.map((i) => ({ name: i.name, anchor: i.anchor, status: i.verified.status, short: i.verified.short }));
  const passed = perImage.filter((i) => i.status === 'passed').length;
  if (!report) {
    return { rendered: false, text: 'not verified when rendered', passed: 0, total: images.length, checks: [], perImage };
  }
  const releaseFailed = report.release.some((c) => c.status === 'failed');
  const text = releaseFailed ? 'release checks failed' : `${passed} of ${images.length} verified`;
  return {
    rendered: true,
    text,
    checkedAt: report.checkedAt,
    checkedText: formatDate(report.checkedAt),
    policy: policyText(report.policy),
    passed,
    total: images.length,
    checks: checkViews(report.release),
    perImage,
  };
}
