/**
 * A local OpenID Connect issuer for tests: ES256 tokens shaped like the ones
 * GitHub Actions hands to a workflow job (audience `sigstore`), a JWKS and
 * discovery document, and the GitHub Actions token endpoint
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` + bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
 * It is mounted by the local Sigstore stack (sigstore-stack.ts) whose Fulcio
 * accepts a token only after `verifyToken` says yes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as jose from 'jose';

/** The workflow identity tokens carry by default: what Fulcio puts in the certificate SAN. */
export const DEFAULT_WORKFLOW_IDENTITY =
  'https://github.com/wellmaintained/packages/.github/workflows/attest.yml@refs/heads/main';

export interface MintTokenOptions {
  /**
   * Certificate identity the token should yield. A `https://github.com/<owner>/<repo>/...@<ref>`
   * workflow URL becomes a GitHub-like `job_workflow_ref` claim (Fulcio's SAN for
   * GitHub tokens); anything else becomes the plain `sub`.
   */
  identity?: string;
  /** Overrides the `sub` claim (default: `repo:<owner>/<repo>:ref:<ref>` for workflow identities). */
  subject?: string;
  /** Overrides the `iss` claim; Fulcio refuses tokens of another issuer. */
  issuer?: string;
  audience?: string;
  /** Lifetime in seconds; zero or negative gives a token that has already expired. */
  expiresIn?: number;
  /** Sign with a key the issuer never published (a forged token). */
  forged?: boolean;
  /** Extra claims merged last. */
  claims?: Record<string, unknown>;
}

export interface OidcIssuer {
  issuer: string;
  mintToken(opts?: MintTokenOptions): Promise<string>;
  /** Verifies signature, issuer, audience and expiry; throws a jose error otherwise. */
  verifyToken(token: string, audience?: string): Promise<jose.JWTPayload>;
  /** For GitHub Actions emulation: the request URL and bearer token a job would get. */
  actionsTokenRequest: { url: string; token: string };
  /** How many tokens the Actions endpoint has handed out. */
  actionsTokensIssued(): number;
  /** Serves discovery, JWKS and the Actions token endpoint; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

const WORKFLOW_URL = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/(\.github\/workflows\/[^@]+)@(.+)$/;

/** GitHub Actions-like claims for a workflow identity, or a plain subject. */
function identityClaims(identity: string): Record<string, unknown> {
  const m = WORKFLOW_URL.exec(identity);
  if (!m) return { sub: identity };
  const [, owner, repo, workflowPath, ref] = m as unknown as [string, string, string, string, string];
  const repository = `${owner}/${repo}`;
  return {
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    ref,
    sha: '0'.repeat(40),
    workflow: workflowPath.split('/').pop(),
    workflow_ref: `${repository}/${workflowPath}@${ref}`,
    job_workflow_ref: `${repository}/${workflowPath}@${ref}`,
    event_name: 'push',
    runner_environment: 'github-hosted',
  };
}

export interface OidcIssuerOptions {
  /** Lifetime in seconds of the tokens the Actions endpoint hands out (GitHub's: about 300). */
  actionsTokenLifetime?: number;
}

export async function createOidcIssuer(issuer: string, opts: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const forgedKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'local-1', alg: 'ES256', use: 'sig' };
  const keySet = jose.createLocalJWKSet({ keys: [jwk] });
  const actionsToken = randomBytes(24).toString('hex');
  const basePath = new URL(issuer).pathname.replace(/\/$/, '');
  let actionsTokensIssued = 0;

  const mintToken = async (opts: MintTokenOptions = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 600;
    const claims: Record<string, unknown> = {
      ...identityClaims(opts.identity ?? DEFAULT_WORKFLOW_IDENTITY),
      ...(opts.subject ? { sub: opts.subject } : {}),
      iss: opts.issuer ?? issuer,
      aud: opts.audience ?? 'sigstore',
      // An expired token must also be older than its expiry, or jose rejects it for `iat` instead.
      iat: expiresIn > 0 ? now : now + expiresIn - 60,
      nbf: expiresIn > 0 ? now - 5 : now + expiresIn - 60,
      exp: now + expiresIn,
      jti: randomBytes(8).toString('hex'),
      ...opts.claims,
    };
    return new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'local-1', typ: 'JWT' })
      .sign(opts.forged ? forgedKey.privateKey : key.privateKey);
  };

  const verifyToken = async (token: string, audience = 'sigstore') =>
    (await jose.jwtVerify(token, keySet, { issuer, audience, algorithms: ['ES256'] })).payload;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    // No keep-alive: a client reusing a socket the server is closing gets ECONNRESET.
    res.writeHead(status, { 'Content-Type': 'application/json', Connection: 'close' }).end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method !== 'GET' || !url.pathname.startsWith(`${basePath}/`)) return false;
    const path = url.pathname.slice(basePath.length);
    if (path === '/.well-known/openid-configuration') {
      json(res, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: ['ES256'],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
      });
      return true;
    }
    if (path === '/jwks') {
      json(res, 200, { keys: [jwk] });
      return true;
    }
    if (path === '/actions-token') {
      // Same contract as GitHub's endpoint: bearer request token, `audience` query, `{ value }` body.
      if (req.headers.authorization !== `Bearer ${actionsToken}`) {
        json(res, 401, { message: 'bad request token' });
        return true;
      }
      const audience = url.searchParams.get('audience') ?? 'sigstore';
      mintToken({ audience, ...(opts.actionsTokenLifetime !== undefined ? { expiresIn: opts.actionsTokenLifetime } : {}) }).then(
        (value) => {
          actionsTokensIssued++;
          json(res, 200, { value });
        },
        (e: Error) => json(res, 500, { message: e.message }),
      );
      return true;
    }
    return false;
  };

  return {
    issuer,
    mintToken,
    verifyToken,
    actionsTokenRequest: { url: `${issuer}/actions-token`, token: actionsToken },
    actionsTokensIssued: () => actionsTokensIssued,
    handle,
  };
}
