import { redact } from './redact.js';

/**
 * Every failure the pipeline reports carries a stable code, so the CLI can map
 * it to an exit status and tests can assert on the code rather than on prose.
 */
export type ErrorCode =
  | 'USAGE' // bad command-line arguments
  | 'INVALID_INPUT' // a value given by the user or read from a file is malformed
  | 'NOT_FOUND' // unknown collection, image, file, reference
  | 'CONFLICT' // e.g. a tag that already points at another digest
  | 'TOOL_MISSING' // a required executable (nix, skopeo...) is not on PATH
  | 'NIX_ERROR' // nix exited non-zero
  | 'ARCHIVE_ERROR' // an image archive is truncated, corrupt or unsafe
  | 'REGISTRY_ERROR' // the registry answered with an error
  | 'AUTH_ERROR' // credentials missing or refused
  | 'NETWORK_ERROR' // the registry or a service could not be reached
  | 'DIGEST_MISMATCH' // content does not match the digest that names it
  | 'SBOM_INVALID' // a generated SBOM failed schema validation
  | 'SIGNING_ERROR' // Fulcio, Rekor, TSA or the key signer failed
  | 'IDENTITY_TOKEN_ERROR' // no usable OIDC token
  | 'VERIFICATION_FAILED' // a signature, attestation or policy check failed
  | 'SCHEMA_INVALID' // a document failed its JSON Schema
  | 'IO_ERROR' // a file could not be written or read (disk full, read-only, permissions)
  | 'INTERNAL';

export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  INVALID_INPUT: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  TOOL_MISSING: 6,
  NIX_ERROR: 7,
  ARCHIVE_ERROR: 8,
  REGISTRY_ERROR: 9,
  AUTH_ERROR: 10,
  NETWORK_ERROR: 11,
  DIGEST_MISMATCH: 12,
  SBOM_INVALID: 13,
  SIGNING_ERROR: 14,
  IDENTITY_TOKEN_ERROR: 15,
  VERIFICATION_FAILED: 16,
  SCHEMA_INVALID: 17,
  IO_ERROR: 18,
  INTERNAL: 1,
};

export class ReleaseError extends Error {
  readonly code: ErrorCode;
  /** Extra lines shown under the message (tool stderr, validator errors). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReleaseError';
    this.code = code;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isReleaseError(e: unknown, code?: ErrorCode): e is ReleaseError {
  return e instanceof ReleaseError && (code === undefined || e.code === code);
}

/** Wraps anything thrown into a ReleaseError without losing the original. */
export function toReleaseError(e: unknown, fallback: ErrorCode = 'INTERNAL'): ReleaseError {
  if (e instanceof ReleaseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ReleaseError(fallback, message, { cause: e });
}

/**
 * What a command line prints for a failure (message, detail lines, and the
 * stack only for unexpected errors), redacted, with the exit status it maps to.
 */
export function describeFailure(e: unknown): { text: string; exitCode: number } {
  const err = toReleaseError(e);
  const lines = [`error: ${err.message}`, ...err.details.map((d) => `  ${d}`)];
  if (err.code === 'INTERNAL' && err.stack) lines.push(err.stack);
  return { text: `${redact(lines.join('\n'))}\n`, exitCode: EXIT_CODES[err.code] };
}
