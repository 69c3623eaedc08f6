import { createLogger, isReleaseError, ReleaseError } from '@nixrel/core';
import { parseImageRef } from '@nixrel/oci';
import { type CliContext, parseCommandArgs } from '../cli-context.js';
import { lineReporter, type ProgressReporter, silentReporter, terminalReporter } from '../progress.js';
import { imageRepository, type ReleaseOptions } from '../release-context.js';
import { SIGNER_FLAGS } from '../signer.js';
import { assertVersion } from '../versioning.js';

/** Flags shared by `pnpm release` and its distributed parts (plan, image, attest-all, collect). */
export const RELEASE_FLAGS = {
  collection: { type: 'string' },
  images: { type: 'string' },
  registry: { type: 'string' },
  version: { type: 'string' },
  ...SIGNER_FLAGS,
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  concurrency: { type: 'string' },
  out: { type: 'string' },
  reproduce: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const DEFAULT_COLLECTION = 'example';

export function parseReleaseArgs(args: string[], usage: string) {
  return parseCommandArgs(args, RELEASE_FLAGS, usage, true);
}

/** The flags of a step of a distributed release (attest-all, collect): no arguments, a --version. */
export function parseStepArgs(args: string[], usage: string) {
  const { values, positionals } = parseReleaseArgs(args, usage);
  if (positionals.length > 0) throw new ReleaseError('USAGE', `unexpected argument "${positionals[0]}"\n${usage}`);
  if (!values.version) throw new ReleaseError('USAGE', `--version is required (from "pnpm release plan")\n${usage}`);
  return values;
}

type Values = ReturnType<typeof parseReleaseArgs>['values'];

/** Live table on a terminal, plain lines in CI or a pipe, nothing but the result with --json. */
function reporterFor(ctx: CliContext, json: boolean): ProgressReporter {
  // With --json, stdout carries only the result; warnings still reach stderr.
  if (json) return { ...silentReporter(), log: (line) => process.stderr.write(`${line}\n`) };
  if (process.stderr.isTTY && !ctx.env.CI) return terminalReporter(process.stderr);
  return lineReporter((line) => process.stderr.write(`${line}\n`));
}

/** `--registry` must name a place images can be pushed to, checked before anything is built or written. */
function assertRegistry(registry: string): void {
  try {
    // `oci:` alone would put each image's layout at the filesystem root (`oci:/<name>`).
    if (/^oci:\/*$/.test(registry)) throw new ReleaseError('INVALID_INPUT', 'no directory after "oci:"');
    const ref = parseImageRef(imageRepository(registry, 'image'));
    if (ref.tag !== undefined || ref.digest !== undefined) throw new ReleaseError('INVALID_INPUT', 'it names a tag or digest');
  } catch (e) {
    if (!isReleaseError(e)) throw e;
    throw new ReleaseError('INVALID_INPUT', `invalid --registry "${registry}": ${e.message}; expected <host>[:port]/<path> or oci:<dir>`, { cause: e });
  }
}

export function releaseOptions(values: Values, ctx: CliContext): ReleaseOptions {
  // Checked first: a bad version or registry must fail before any build, state or push.
  if (values.version !== undefined) assertVersion(values.version);
  if (values.registry !== undefined) assertRegistry(values.registry);
  const concurrency = values.concurrency === undefined ? 2 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
    throw new ReleaseError('USAGE', `--concurrency must be a whole number from 1 to 16, not "${values.concurrency}"`);
  }
  const images = values.images?.split(',').map((s) => s.trim()).filter(Boolean);
  if (values.images !== undefined && (!images || images.length === 0)) throw new ReleaseError('USAGE', '--images needs at least one image name');
  const policy = {
    ...(values['certificate-identity'] ? { certificateIdentity: values['certificate-identity'] } : {}),
    ...(values['certificate-identity-regexp'] ? { certificateIdentityRegexp: values['certificate-identity-regexp'] } : {}),
    ...(values['certificate-oidc-issuer'] ? { certificateOidcIssuer: values['certificate-oidc-issuer'] } : {}),
  };
  const progress = reporterFor(ctx, values.json ?? false);
  return {
    repoRoot: ctx.repoRoot,
    collection: values.collection ?? DEFAULT_COLLECTION,
    ...(images ? { images } : {}),
    ...(values.registry ? { registry: values.registry } : {}),
    ...(values.version ? { version: values.version } : {}),
    signer: {
      ...(values.signer ? { signer: values.signer } : {}),
      ...(values.key ? { key: values.key } : {}),
      ...(values['fulcio-url'] ? { fulcioUrl: values['fulcio-url'] } : {}),
      ...(values['rekor-url'] ? { rekorUrl: values['rekor-url'] } : {}),
      ...(values['tsa-url'] ? { tsaUrl: values['tsa-url'] } : {}),
      ...(values['trusted-root'] ? { trustedRoot: values['trusted-root'] } : {}),
      ...(values['identity-token'] ? { identityToken: values['identity-token'] } : {}),
      ...(values['identity-token-file'] ? { identityTokenFile: values['identity-token-file'] } : {}),
    },
    policy,
    reproduce: values.reproduce ?? false,
    concurrency,
    ...(values.out ? { outDir: values.out } : {}),
    env: ctx.env,
    // The progress view tells what each image is doing; stage logs only when asked,
    // and printed through the view so a live table stays whole.
    logger: createLogger({ level: ctx.env.RELEASE_LOG_LEVEL ? undefined : 'warn', write: (line) => progress.log(line) }),
    progress,
  };
}
