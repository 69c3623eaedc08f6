/**
 * The verification policy, applied exactly: identity exact or by a regular
 * expression that must match the WHOLE certificate SAN, issuer exact,
 * predicate types exact. @sigstore/verify tests the SAN with String.match (a
 * prefix would pass), so every pattern handed to it is anchored here.
 */
import type { VerificationPolicy } from '@nixrel/core';
import { PREDICATE_TYPE_NAMES } from './constants.js';
import { VerificationFailure } from './verification-error.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `^(?:...)$` around the user's pattern: whatever they wrote, it has to match the whole SAN. */
export function identityPattern(policy: Pick<VerificationPolicy, 'certificateIdentity' | 'certificateIdentityRegexp'>): string {
  if (policy.certificateIdentity !== undefined && policy.certificateIdentityRegexp !== undefined) {
    throw new VerificationFailure('POLICY_INVALID', 'give either a certificate identity or a certificate identity regexp, not both');
  }
  if (policy.certificateIdentity !== undefined) {
    if (policy.certificateIdentity === '') throw new VerificationFailure('POLICY_INVALID', 'certificate identity is empty');
    return `^${escapeRegExp(policy.certificateIdentity)}$`;
  }
  if (policy.certificateIdentityRegexp !== undefined) {
    const pattern = `^(?:${policy.certificateIdentityRegexp})$`;
    try {
      new RegExp(pattern);
    } catch (e) {
      throw new VerificationFailure('POLICY_INVALID', `certificate identity regexp "${policy.certificateIdentityRegexp}" is invalid: ${(e as Error).message}`);
    }
    return pattern;
  }
  throw new VerificationFailure('POLICY_INVALID', 'keyless verification needs a certificate identity (exact or regexp)');
}

export function identityMatches(pattern: string, san: string | undefined): boolean {
  return san !== undefined && new RegExp(pattern).test(san);
}

/** Predicate type for a cosign `--type` name or a URI given as is. */
export function predicateTypeFromName(name: string): string {
  const known = PREDICATE_TYPE_NAMES[name];
  if (known) return known;
  if (/^https?:\/\/\S+$/.test(name)) return name;
  throw new VerificationFailure(
    'POLICY_INVALID',
    `unknown attestation type "${name}": use one of ${Object.keys(PREDICATE_TYPE_NAMES).join(', ')} or a predicate type URI`,
  );
}
