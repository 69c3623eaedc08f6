/**
 * `pnpm verify <image-ref> [--type T]... --certificate-identity ID|--certificate-identity-regexp RE
 *  --certificate-oidc-issuer ISS [--trusted-root FILE]` (keyless) or `... --key FILE` (key-signed):
 * finds the image's Sigstore bundles among its OCI referrers and verifies each
 * required attestation type. `--type` takes cosign's names (sign,
 * slsaprovenance1, cyclonedx, ...) or a predicate type URI; default: the image
 * signature, SLSA provenance and the SBOM. Keyless bundles are checked against
 * --trusted-root FILE, or else the public-good Sigstore trusted root via TUF.
 *
 * `pnpm verify --manifest release.json [--trusted-root FILE]` verifies a whole
 * release from the bundle files it lists, with the policy its signer fields state.
 *
 * Prints what was verified per image; exits non-zero naming every failure.
 */
import { join, resolve } from 'node:path';
import {
  keyFingerprint,
  keyTrust,
  loadPublicKey,
  loadTrustedRoot,
  predicateTypeFromName,
  publicGoodTrustedRoot,
  type Trust,
  type TufOptions,
  tufOptionsFromEnv,
} from '@nixrel/attest';
import { IMAGE_PREDICATE_TYPES, ReleaseError, toJson, type VerificationPolicy } from '@nixrel/core';
import { type CliContext, type Command, parseCommandArgs } from '../cli-context.js';
import { type ImageVerificationResult, verifyImageAttestations, verifyReleaseBundles } from '../stages/verify.js';

export const USAGE =
  'usage: pnpm verify <image-ref> [--type slsaprovenance1|cyclonedx|sign|<uri>]... ' +
  '(--certificate-identity ID | --certificate-identity-regexp RE) --certificate-oidc-issuer URL [--trusted-root FILE] | --key FILE [--json]\n' +
  '       pnpm verify --manifest release.json [--trusted-root FILE] [--json]';

const FLAGS = {
  type: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  key: { type: 'string' },
  manifest: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function report(results: ImageVerificationResult[], ctx: CliContext, json: boolean): void {
  if (json) {
    ctx.out(
      toJson({
        ok: results.every((r) => r.record.ok),
        images: results.map((r) => ({
          image: r.image,
          ...r.record,
          attestations: r.details.verified.map(({ statement: _statement, ...v }) => v),
          problems: r.details.failures,
        })),
      }),
    );
  } else {
    for (const r of results) {
      ctx.out(`${r.record.ok ? 'verified' : 'FAILED'} ${r.image}`);
      for (const v of r.details.verified) {
        const who =
          v.signerMode === 'keyless'
            ? `keyless identity ${v.identity} issuer ${v.issuer}${v.rekorLogIndex !== undefined ? ` rekor #${v.rekorLogIndex}` : ''}`
            : `key ${v.keyFingerprint} (NOT keyless)`;
        ctx.out(`  ok    ${v.predicateType}  ${who}${v.signedAt ? `  signed ${v.signedAt}` : ''}  (${v.source})`);
      }
      for (const f of r.record.failures) ctx.out(`  FAIL  ${f}`);
    }
  }
  const failed = results.filter((r) => !r.record.ok);
  if (failed.length > 0) {
    throw new ReleaseError(
      'VERIFICATION_FAILED',
      `verification failed for ${failed.map((r) => r.image).join(', ')}`,
      { details: failed.flatMap((r) => r.record.failures.map((f) => `${r.image}: ${f}`)) },
    );
  }
}

export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, FLAGS, USAGE, true);
  const { values, positionals } = parsed;
  const json = values.json ?? false;
  const trustedRoot = values['trusted-root'] ? await loadTrustedRoot(values['trusted-root']) : undefined;
  // No file: the public-good trusted root via TUF, cached in .release/tuf.
  const tuf: TufOptions = { cachePath: join(ctx.repoRoot, '.release', 'tuf'), ...tufOptionsFromEnv(ctx.env) };

  if (values.manifest) {
    if (positionals.length > 0) throw new ReleaseError('USAGE', `--manifest verifies a whole release; drop "${positionals.join(' ')}"\n${USAGE}`);
    const identityFlags = ['type', 'certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'key'] as const;
    const stray = identityFlags.filter((f) => values[f] !== undefined);
    if (stray.length > 0) throw new ReleaseError('USAGE', `with --manifest the policy comes from the manifest's signer; drop ${stray.map((f) => `--${f}`).join(', ')}`);
    report(await verifyReleaseBundles(resolve(values.manifest), trustedRoot, tuf), ctx, json);
    return;
  }

  if (positionals.length !== 1) throw new ReleaseError('USAGE', `expected one image reference, got ${positionals.length}\n${USAGE}`);
  const predicateTypes = values.type?.length ? values.type.map(predicateTypeFromName) : [...IMAGE_PREDICATE_TYPES];
  let trust: Trust;
  let policy: VerificationPolicy;
  if (values.key) {
    const keylessFlags = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'trusted-root'] as const;
    const stray = keylessFlags.filter((f) => values[f] !== undefined);
    if (stray.length > 0) throw new ReleaseError('USAGE', `${stray.map((f) => `--${f}`).join(', ')} apply to keyless bundles, not with --key`);
    const publicKey = await loadPublicKey(values.key);
    trust = keyTrust(publicKey);
    policy = { keyFingerprint: keyFingerprint(publicKey), predicateTypes };
  } else {
    if (values['certificate-identity'] === undefined && values['certificate-identity-regexp'] === undefined) {
      throw new ReleaseError('USAGE', `give --certificate-identity or --certificate-identity-regexp\n${USAGE}`);
    }
    if (values['certificate-oidc-issuer'] === undefined) throw new ReleaseError('USAGE', `give --certificate-oidc-issuer\n${USAGE}`);
    trust = trustedRoot ?? (await publicGoodTrustedRoot(tuf));
    policy = {
      ...(values['certificate-identity'] !== undefined ? { certificateIdentity: values['certificate-identity'] } : {}),
      ...(values['certificate-identity-regexp'] !== undefined ? { certificateIdentityRegexp: values['certificate-identity-regexp'] } : {}),
      certificateOidcIssuer: values['certificate-oidc-issuer'],
      predicateTypes,
    };
  }
  const result = await verifyImageAttestations(positionals[0]!, { policy, trust, registry: { logger: ctx.logger, env: ctx.env } });
  report([result], ctx, json);
};
