/**
 * Where a keyless signer's OIDC token comes from, in order: an explicit token
 * (--identity-token), a token file (--identity-token-file), SIGSTORE_ID_TOKEN,
 * then the GitHub Actions token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN,
 * audience `sigstore`). Every token is registered as a secret before anything
 * else happens, so no log line or error message can carry it.
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
}

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
  return { token: token.trim(), source, issuer, subject, ...(expiresAt ? { expiresAt } : {}) };
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
    let text: string;
    try {
      text = await readFile(opts.tokenFile, 'utf8');
    } catch (e) {
      throw new ReleaseError('NOT_FOUND', `identity token file ${opts.tokenFile} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    registerSecret(text.trim());
    if (text.trim() === '') throw new ReleaseError('IDENTITY_TOKEN_ERROR', `identity token file ${opts.tokenFile} is empty`);
    return inspectIdentityToken(text, '--identity-token-file');
  }
  if (env.SIGSTORE_ID_TOKEN) return inspectIdentityToken(env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN');
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const token = await fromGitHubActions(env, opts.audience ?? 'sigstore', opts.timeoutMs ?? 30_000);
    return inspectIdentityToken(token, 'github-actions');
  }
  return undefined;
}
