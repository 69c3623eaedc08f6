/**
 * `pnpm verify <image-ref> [--type T]... --certificate-identity ID|--certificate-identity-regexp RE
 *  --certificate-oidc-issuer ISS [--trusted-root FILE]` (keyless) or `... --key FILE` (key-signed):
 * finds the image's Sigstore bundles among its OCI referrers and verifies each
 * required attestation type. `--type` takes cosign's names (sign,
 * slsaprovenance1, cyclonedx, ...) or a predicate type URI; default: the image
 * signature, SLSA provenance and the SBOM. Keyless bundles are checked against
 * --trusted-root FILE, or else the public-good Sigstore trusted root via TUF.
 *
 * `pnpm verify --manifest release.json <policy flags>` verifies a whole release
 * (verify-release.ts) and `pnpm verify --pack FILE <policy flags>` its audit
 * pack, offline. The policy always comes from the flags: the release's own
 * signer fields and key file are claims checked against it. Without a policy
 * the command says what the release claims and how to pin it (exit 2).
 *
 * Prints what was verified; exits non-zero naming every failure.
 */
import { resolve } from 'node:path';
import { customSigstoreServices, predicateTypeFromName } from '@nixrel/attest';
import { IMAGE_PREDICATE_TYPES, ReleaseError, toJson, type VerificationReport } from '@nixrel/core';
import { PACK, readPack } from '../audit-pack.js';
import { type CliContext, type Command, parseCommandArgs } from '../cli-context.js';
import { verifyPack } from '../pack-release.js';
import { type ImageVerificationResult, verifyImageAttestations } from '../stages/verify.js';
import { type ClaimedSigner, hasPolicyFlags, missingPolicyError, POLICY_FLAGS, POLICY_USAGE, type PolicyFlagValues, policyFromFlags, type VerifierPolicy, verifierTuf } from '../verifier-policy.js';
import { readManifestForCheck, reportFailures, verifyRelease } from '../verify-release.js';

export const USAGE =
  `usage: pnpm verify <image-ref> [--type slsaprovenance1|cyclonedx|sign|<uri>]... ${POLICY_USAGE} [--json]\n` +
  `       pnpm verify --manifest release.json ${POLICY_USAGE} [--json]\n` +
  `       pnpm verify --pack <version>.audit.tar.gz ${POLICY_USAGE} [--json]   (offline; keyless needs --trusted-root)`;

const FLAGS = {
  type: { type: 'string', multiple: true },
  ...POLICY_FLAGS,
  manifest: { type: 'string' },
  pack: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
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

/** The report as text: one line per check, grouped by image; failures stand out. */
export function printReport(report: VerificationReport, ctx: CliContext): void {
  const mark = { passed: 'ok  ', failed: 'FAIL', 'not-checked': 'skip' } as const;
  const line = (c: VerificationReport['release'][number]) => `  ${mark[c.status]}  ${c.title}${c.detail ? `  (${c.detail})` : ''}`;
  const p = report.policy;
  const pinned = p.mode === 'key' ? `key ${p.keyFingerprint}` : `identity ${p.certificateIdentity ?? `regexp ${p.certificateIdentityRegexp}`} issuer ${p.certificateOidcIssuer}, trusted root ${p.trustedRoot}`;
  ctx.out(`policy: ${p.mode} ${pinned}`);
  ctx.out(`${report.release.some((c) => c.status === 'failed') ? 'FAILED' : 'verified'} release.json`);
  for (const c of report.release) ctx.out(line(c));
  for (const image of report.images) {
    ctx.out(`${image.checks.some((c) => c.status === 'failed') ? 'FAILED' : 'verified'} ${image.name}${image.digest ? `@${image.digest}` : ''}`);
    for (const c of image.checks) ctx.out(line(c));
  }
}

function finish(report: VerificationReport, ctx: CliContext, json: boolean, what: string): void {
  if (json) ctx.out(toJson(report));
  else printReport(report, ctx);
  const failures = reportFailures(report);
  if (failures.length > 0) throw new ReleaseError('VERIFICATION_FAILED', `verification of ${what} failed`, { details: failures });
}

async function releasePolicy(values: PolicyFlagValues, claimed: ClaimedSigner | undefined, command: string, ctx: CliContext, offline: boolean): Promise<VerifierPolicy> {
  if (!hasPolicyFlags(values)) throw missingPolicyError(claimed, command, USAGE);
  // Only the public-good root comes from TUF: a release logged elsewhere needs its deployment's root.
  const custom = claimed?.rekorUrl ? customSigstoreServices({ rekorUrl: claimed.rekorUrl }) : [];
  if (values.key === undefined && values['trusted-root'] === undefined && custom.length > 0) {
    throw new ReleaseError('USAGE', `the release claims it was logged to ${custom.join(', ')}, not the public-good Sigstore instance: pass --trusted-root FILE (a trusted root of that deployment you trust)\n${USAGE}`);
  }
  return policyFromFlags(values, { usage: USAGE, tuf: verifierTuf(ctx.repoRoot, ctx.env), offline });
}

export const run: Command = async (args, ctx) => {
  const parsed = parseCommandArgs(args, FLAGS, USAGE, true);
  const { values, positionals } = parsed;
  if (values.help) {
    ctx.out(USAGE);
    return;
  }
  const json = values.json ?? false;
  const policyValues: PolicyFlagValues = values;

  if (values.manifest !== undefined || values.pack !== undefined) {
    const which = values.manifest !== undefined ? '--manifest' : '--pack';
    if (values.manifest !== undefined && values.pack !== undefined) throw new ReleaseError('USAGE', `give --manifest or --pack, not both\n${USAGE}`);
    if (positionals.length > 0) throw new ReleaseError('USAGE', `${which} verifies a whole release; drop "${positionals.join(' ')}"\n${USAGE}`);
    if (values.type !== undefined) throw new ReleaseError('USAGE', `${which} checks every attestation of every image; drop --type`);
    if (values.manifest !== undefined) {
      const manifestPath = resolve(ctx.env.INIT_CWD ?? process.cwd(), values.manifest);
      const claimed = (await readManifestForCheck(manifestPath)).data.signer;
      const verifier = await releasePolicy(policyValues, claimed, `pnpm verify --manifest ${values.manifest}`, ctx, false);
      const report = await verifyRelease({ manifestPath, verifier, registry: { logger: ctx.logger, env: ctx.env, retry: { attempts: 2 } } });
      finish(report, ctx, json, values.manifest);
      return;
    }
    const packPath = resolve(ctx.env.INIT_CWD ?? process.cwd(), values.pack!);
    let claimed: ClaimedSigner | undefined;
    if (!hasPolicyFlags(policyValues)) {
      const manifest = (await readPack(packPath)).get(PACK.manifest);
      try {
        claimed = manifest ? (JSON.parse(manifest.toString('utf8')) as { signer?: ClaimedSigner }).signer : undefined;
      } catch {
        claimed = undefined;
      }
    }
    const verifier = await releasePolicy(policyValues, claimed, `pnpm verify --pack ${values.pack}`, ctx, true);
    finish(await verifyPack(packPath, verifier, values['trusted-root']), ctx, json, values.pack!);
    return;
  }

  if (positionals.length !== 1) throw new ReleaseError('USAGE', `expected one image reference, got ${positionals.length}\n${USAGE}`);
  const predicateTypes = values.type?.length ? values.type.map(predicateTypeFromName) : [...IMAGE_PREDICATE_TYPES];
  const { trust, policy } = await policyFromFlags(policyValues, { usage: USAGE, tuf: verifierTuf(ctx.repoRoot, ctx.env) });
  const result = await verifyImageAttestations(positionals[0]!, { policy: { ...policy, predicateTypes }, trust, registry: { logger: ctx.logger, env: ctx.env } });
  report([result], ctx, json);
};
