/**
 * `pnpm release attest <image-ref@digest> --sbom FILE [--provenance FILE]`
 * signs the image (cosign v3 signature statement), its SLSA provenance and its
 * SBOM, verifies each bundle, and attaches them to the image as OCI referrers.
 *
 * Signer: keyless when an OIDC token is available (--identity-token,
 * --identity-token-file, SIGSTORE_ID_TOKEN, GitHub Actions) or with
 * `--signer keyless`; otherwise (or with `--signer key` / `--key FILE`) the
 * local key in .release/keys/, which every output labels as NOT keyless.
 * Keyless trust: --trusted-root FILE, else the public-good trusted root via
 * TUF (a custom --fulcio-url/--rekor-url/--tsa-url needs the file).
 */
import { join } from 'node:path';
import { type AttestationRecord, ReleaseError, registerSecret, toJson } from '@nixrel/core';
import { parseImageRef } from '@nixrel/oci';
import { type Command, parseCommandArgs } from '../cli-context.js';
import { chooseSigner, SIGNER_FLAGS } from '../signer.js';
import { attestImage } from '../stages/attest.js';

export const USAGE =
  'usage: pnpm release attest <image-ref@sha256:…> --sbom FILE [--provenance FILE] [--signer keyless|key] ' +
  '[--fulcio-url URL] [--rekor-url URL] [--tsa-url URL] [--trusted-root FILE] [--identity-token T] ' +
  '[--identity-token-file F] [--key FILE] [--out DIR] [--timeout SECONDS] [--json]';

const FLAGS = {
  sbom: { type: 'string' },
  provenance: { type: 'string' },
  ...SIGNER_FLAGS,
  out: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const KEYLESS_ONLY = ['fulcio-url', 'rekor-url', 'tsa-url', 'identity-token', 'identity-token-file'] as const;

export function describeAttestation(a: AttestationRecord): string {
  const who =
    a.signerMode === 'keyless'
      ? `keyless identity ${a.signerIdentity} issuer ${a.issuer}${a.rekorLogIndex !== undefined ? ` rekor #${a.rekorLogIndex}` : ''}`
      : `key ${a.keyFingerprint} (NOT keyless)`;
  return `${a.predicateType}  ${who}  bundle ${a.bundlePath}  referrer ${a.referrerDigest}`;
}

export const run: Command = async (args, ctx) => {
  // Secrets first: nothing below may echo a token given on the command line.
  const tokenAt = args.indexOf('--identity-token');
  if (tokenAt >= 0) registerSecret(args[tokenAt + 1]);
  for (const a of args) if (a.startsWith('--identity-token=')) registerSecret(a.slice('--identity-token='.length));
  const parsed = parseCommandArgs(args, FLAGS, USAGE, true);
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new ReleaseError('USAGE', `expected one image reference, got ${positionals.length}\n${USAGE}`);
  const image = positionals[0]!;
  if (!values.sbom) throw new ReleaseError('USAGE', `--sbom FILE is required\n${USAGE}`);
  const ref = parseImageRef(image);
  if (!ref.digest) throw new ReleaseError('INVALID_INPUT', `image reference "${image}" must name a digest (…@sha256:<hex>)`);
  const keyMode = values.signer === 'key' || (values.signer === undefined && values.key !== undefined);
  if (keyMode) {
    const stray = KEYLESS_ONLY.filter((f) => values[f] !== undefined);
    if (stray.length > 0) throw new ReleaseError('USAGE', `${stray.map((f) => `--${f}`).join(', ')} only apply to keyless signing`);
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new ReleaseError('USAGE', `--timeout must be a positive number of seconds, not "${values.timeout}"`);
    timeoutMs = seconds * 1000;
  }

  const releaseDir = join(ctx.repoRoot, '.release');
  const choice = await chooseSigner(
    {
      signer: values.signer,
      key: values.key,
      keyDir: join(releaseDir, 'keys'),
      fulcioUrl: values['fulcio-url'],
      rekorUrl: values['rekor-url'],
      tsaUrl: values['tsa-url'],
      trustedRoot: values['trusted-root'],
      identityToken: values['identity-token'],
      identityTokenFile: values['identity-token-file'],
      timeoutMs,
      env: ctx.env,
    },
    ctx.logger,
  );
  ctx.logger.info(`signer: ${choice.signer.label}`);
  const bundleDir = values.out ?? join(releaseDir, 'bundles', `${ref.name.split('/').pop()}-${ref.digest.slice(7, 19)}`);
  const records = await attestImage({
    image,
    sbomPath: values.sbom,
    ...(values.provenance ? { provenancePath: values.provenance } : {}),
    signer: choice.signer,
    trust: choice.trust,
    ...(choice.token ? { expectedIssuer: choice.token.issuer } : {}),
    bundleDir,
    recordsRelativeTo: ctx.repoRoot,
    registry: { logger: ctx.logger, env: ctx.env },
    logger: ctx.logger,
  });
  if (values.json) {
    ctx.out(toJson({ image, signer: { mode: choice.signer.mode, label: choice.signer.label }, attestations: records }));
    return;
  }
  ctx.out(`attested ${image}\n  signer: ${choice.signer.label}`);
  for (const r of records) ctx.out(`  ${describeAttestation(r)}`);
};

