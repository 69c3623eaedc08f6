/**
 * Where a keyless signer's OIDC token comes from, in order: an explicit token
 * (--identity-token), a token file (--identity-token-file), SIGSTORE_ID_TOKEN,
 * then the GitHub Actions token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN,
 * audience `sigstore`). Every token is registered as a secret before anything
 * else happens, so no log line or error message can carry it.
 *
 * GitHub's tokens live about five minutes, and a release asks Fulcio for a
 * certificate per signature for longer than that: a token from a source that
 * can give another (the Actions endpoint, a token file) carries `renew`, and
 * `freshIdentityToken` asks it again once the held token is near its expiry.
 */
import { readFile } from 'node:fs/promises';
import { ReleaseError, registerSecret } from '@nixrel/core';

export type IdentityTokenSource = '--identity-token' | '--identity-token-file' | 'SIGSTORE_ID_TOKEN' | 'github-actions';

export interface IdentityToken {
  token: string;
  source: IdentityTokenSource;
  issuer: string;
  subject: string;
  expiresAt?: Date;
  /**
   * GitHub's `job_workflow_ref` (`owner/repo/.github/workflows/attest.yml@refs/heads/main`):
   * the workflow that runs the job, a reusable one included. Fulcio names it in the
   * certificate; GITHUB_WORKFLOW_REF names the caller instead.
   */
  jobWorkflowRef?: string;
  /** Asks the same source again: present where the source can hand out another token. */
  renew?: () => Promise<IdentityToken>;
}

/** A token this close to its expiry is renewed before use: it must outlive the certificate request. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;

export interface FindIdentityTokenOptions {
  token?: string;
  tokenFile?: string;
  env: Record<string, string | undefined>;
  audience?: string;
  timeoutMs?: number;
}

/** Decodes (does not verify: Fulcio does) and checks the claims a token must have. */
export function inspectIdentityToken(token: string, source: IdentityTokenSource, now = new Date()): IdentityToken {
  registerSecret(token);
  const parts = token.trim().split('.');
  let claims: Record<string, unknown> | undefined;
  if (parts.length === 3) {
    try {
      claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
    } catch {
      claims = undefined;
    }
  }
  if (!claims || typeof claims !== 'object') {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `identity token from ${source} is not a JWT`);
  }
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  const subject = typeof claims.email === 'string' ? claims.email : typeof claims.sub === 'string' ? claims.sub : '';
  if (!issuer || !subject) {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `identity token from ${source} has no ${issuer ? 'sub or email' : 'iss'} claim`);
  }
  const expiresAt = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `identity token from ${source} (issuer ${issuer}) expired at ${expiresAt.toISOString()}`);
  }
  const jobWorkflowRef = typeof claims.job_workflow_ref === 'string' ? claims.job_workflow_ref : undefined;
  return { token: token.trim(), source, issuer, subject, ...(expiresAt ? { expiresAt } : {}), ...(jobWorkflowRef ? { jobWorkflowRef } : {}) };
}

async function fromGitHubActions(env: Record<string, string | undefined>, audience: string, timeoutMs: number): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL!;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!;
  registerSecret(requestToken);
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  url.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${requestToken}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `GitHub Actions token endpoint ${url.origin} unreachable: ${(e as Error).message}`);
  }
  if (!response.ok) {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `GitHub Actions token endpoint ${url.origin} answered ${response.status} (does the job have "id-token: write"?)`);
  }
  const body = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (typeof body.value !== 'string' || body.value === '') {
    throw new ReleaseError('IDENTITY_TOKEN_ERROR', `GitHub Actions token endpoint ${url.origin} returned no token`);
  }
  registerSecret(body.value);
  return body.value;
}

/** The first token available, checked; undefined when there is none. */
export async function findIdentityToken(opts: FindIdentityTokenOptions): Promise<IdentityToken | undefined> {
  const { env } = opts;
  if (opts.token !== undefined) {
    if (opts.token.trim() === '') throw new ReleaseError('IDENTITY_TOKEN_ERROR', '--identity-token is empty');
    return inspectIdentityToken(opts.token, '--identity-token');
  }
  if (opts.tokenFile !== undefined) {
    const tokenFile = opts.tokenFile;
    // Whoever writes the file (a projected service-account token, say) keeps it fresh: read it again.
    const fromFile = async (): Promise<IdentityToken> => ({ ...inspectIdentityToken(await readTokenFile(tokenFile), '--identity-token-file'), renew: fromFile });
    return fromFile();
  }
  if (env.SIGSTORE_ID_TOKEN) return inspectIdentityToken(env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN');
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const fromActions = async (): Promise<IdentityToken> => ({
      ...inspectIdentityToken(await fromGitHubActions(env, opts.audience ?? 'sigstore', opts.timeoutMs ?? 30_000), 'github-actions'),
      renew: fromActions,
    });
    return fromActions();
  }
  return undefined;
}

async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `identity token file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  registerSecret(text.trim());
  if (text.trim() === '') throw new ReleaseError('IDENTITY_TOKEN_ERROR', `identity token file ${path} is empty`);
  return text;
}

/**
 * A supplier of tokens valid for at least RENEW_BEFORE_EXPIRY_MS more: the one
 * held while it is, else a new one from its source. A token that cannot be
 * renewed is used until it expires, then refused with the reason.
 */
export function freshIdentityToken(first: IdentityToken, now: () => number = Date.now): () => Promise<IdentityToken> {
  let held = first;
  return async () => {
    const expiry = held.expiresAt?.getTime();
    if (expiry === undefined || expiry - now() > RENEW_BEFORE_EXPIRY_MS) return held;
    if (held.renew) {
      held = await held.renew();
      return held;
    }
    if (expiry <= now()) {
      throw new ReleaseError(
        'IDENTITY_TOKEN_ERROR',
        `identity token from ${held.source} (issuer ${held.issuer}) expired at ${new Date(expiry).toISOString()} and its source cannot give another: use a token that outlives the signing, --identity-token-file with a file kept fresh, or the GitHub Actions token endpoint`,
      );
    }
    return held;
  };
}
