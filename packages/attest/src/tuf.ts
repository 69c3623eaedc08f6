/**
 * The public-good Sigstore trusted root, fetched and verified through TUF as
 * sigstore-js and cosign do: the root of trust is the TUF root.json that ships
 * with @sigstore/tuf (or one given for another mirror); timestamp, snapshot,
 * targets and the `trusted_root.json` target must all verify against it before
 * the trusted root is used. Metadata and targets are cached, so an unchanged
 * repository costs one small timestamp request.
 */
import { ReleaseError } from '@nixrel/core';
import { DEFAULT_MIRROR_URL, getTrustedRoot } from '@sigstore/tuf';
import { PUBLIC_GOOD } from './constants.js';
import { type Trust, trustFromRoot } from './trust.js';

export const PUBLIC_GOOD_TUF_MIRROR: string = DEFAULT_MIRROR_URL;

export interface TufOptions {
  /** Where TUF metadata and targets are cached; default: sigstore-js's directory in the user's data dir. */
  cachePath?: string;
  /** Default: the public-good repository. Another mirror needs `rootPath`. */
  mirrorUrl?: string;
  /** The mirror's initial root.json; only the public-good one ships with the client. */
  rootPath?: string;
  /** Per request; default 5 s. */
  timeoutMs?: number;
  /** Retries per request; default 2. */
  retries?: number;
}

/** Fetches the trusted root from a TUF repository (default: Sigstore's public-good one) and verifies the chain. */
export async function publicGoodTrustedRoot(opts: TufOptions = {}): Promise<Trust> {
  const mirror = (opts.mirrorUrl ?? PUBLIC_GOOD_TUF_MIRROR).replace(/\/+$/, '');
  try {
    const root = await getTrustedRoot({
      mirrorURL: mirror,
      ...(opts.cachePath ? { cachePath: opts.cachePath } : {}),
      ...(opts.rootPath ? { rootPath: opts.rootPath } : {}),
      timeout: opts.timeoutMs ?? 5000,
      retry: { retries: opts.retries ?? 2 },
    });
    return trustFromRoot(root, `trusted root from TUF mirror ${mirror}`);
  } catch (e) {
    throw tufFailure(e, mirror, opts.rootPath);
  }
}

/**
 * `RELEASE_TUF_MIRROR_URL` (+ `RELEASE_TUF_ROOT`, its root.json) points the
 * default trusted root at another TUF mirror: an internal mirror of the
 * public-good repository, or a local one in tests.
 */
export function tufOptionsFromEnv(env: Record<string, string | undefined>): Pick<TufOptions, 'mirrorUrl' | 'rootPath'> {
  return {
    ...(env.RELEASE_TUF_MIRROR_URL ? { mirrorUrl: env.RELEASE_TUF_MIRROR_URL } : {}),
    ...(env.RELEASE_TUF_ROOT ? { rootPath: env.RELEASE_TUF_ROOT } : {}),
  };
}

/**
 * The services among these that are not the public-good instance, e.g.
 * `["Fulcio http://127.0.0.1:9000"]`: their certificates and log entries are
 * not covered by the public-good trusted root.
 */
export function customSigstoreServices(urls: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string }): string[] {
  const same = (a: string, b: string) => a.replace(/\/+$/, '') === b;
  const custom: string[] = [];
  if (urls.fulcioUrl && !same(urls.fulcioUrl, PUBLIC_GOOD.fulcioUrl)) custom.push(`Fulcio ${urls.fulcioUrl}`);
  if (urls.rekorUrl && !same(urls.rekorUrl, PUBLIC_GOOD.rekorUrl)) custom.push(`Rekor ${urls.rekorUrl}`);
  if (urls.tsaUrl && !same(urls.tsaUrl, PUBLIC_GOOD.tsaUrl)) custom.push(`TSA ${urls.tsaUrl}`);
  return custom;
}

// tuf-js and @tufjs/models may be loaded twice (two versions), so errors are
// told apart by class name and code rather than instanceof.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function causes(e: unknown): Error[] {
  const chain: Error[] = [];
  for (let c: unknown = e; c instanceof Error && chain.length < 10; c = (c as { cause?: unknown }).cause) chain.push(c);
  return chain;
}

function tufFailure(e: unknown, mirror: string, rootPath: string | undefined): ReleaseError {
  if (e instanceof ReleaseError) return e;
  const chain = causes(e);
  const codeOf = (c: Error) => (c as { code?: unknown }).code;
  const tufCode = chain[0] ? codeOf(chain[0]) : undefined;
  // The innermost message says what went wrong; the wrappers only say where.
  const detail = chain.at(-1)?.message ?? String(e);
  if (tufCode === 'TUF_INIT_CACHE_ERROR') {
    return new ReleaseError('USAGE', `TUF mirror ${mirror} has no built-in root.json: give the mirror's initial root.json`, { cause: e });
  }
  if (rootPath && chain.some((c) => codeOf(c) === 'ENOENT' && (c as { path?: string }).path === rootPath)) {
    return new ReleaseError('NOT_FOUND', `TUF root ${rootPath} does not exist`, { cause: e });
  }
  if (chain.some((c) => c.constructor.name === 'FetchError' || NETWORK_CODES.has(String(codeOf(c))))) {
    return new ReleaseError('NETWORK_ERROR', `cannot reach TUF mirror ${mirror} for the Sigstore trusted root: ${detail}`, { cause: e });
  }
  const http = chain.find((c) => c.constructor.name === 'DownloadHTTPError') as { statusCode?: number } | undefined;
  if (http) {
    return new ReleaseError('NETWORK_ERROR', `TUF mirror ${mirror} answered HTTP ${http.statusCode} (${detail})`, { cause: e });
  }
  if (tufCode === 'TUF_FIND_TARGET_ERROR') {
    return new ReleaseError('NOT_FOUND', `TUF mirror ${mirror} lists no trusted_root.json target`, { cause: e });
  }
  if (tufCode === 'TUF_REFRESH_METADATA_ERROR' || tufCode === 'TUF_DOWNLOAD_TARGET_ERROR') {
    // Bad signatures, hashes, lengths, versions, expiry or malformed metadata:
    // none of it may be trusted.
    return new ReleaseError('VERIFICATION_FAILED', `TUF mirror ${mirror} served metadata or a trusted root that does not verify: ${detail}`, { cause: e });
  }
  return new ReleaseError('INVALID_INPUT', `trusted root from TUF mirror ${mirror} is unusable: ${detail}`, { cause: e });
}
