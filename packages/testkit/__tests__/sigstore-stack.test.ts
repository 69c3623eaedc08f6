import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '../src/sigstore-stack.js';

let stack: SigstoreStack;
beforeAll(async () => {
  stack = await startSigstoreStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A Fulcio v2 signingCert request as a client sends it, with proof of possession of the key. */
async function requestCertificate(token: string, opts: { proofOver?: string } = {}) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const subject = opts.proofOver ?? String(decodeJwt(token).sub);
  const response = await fetch(`${stack.fulcioUrl}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }) },
        proofOfPossession: sign('sha256', Buffer.from(subject), privateKey).toString('base64'),
      },
    }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as { message?: string; code?: number; signedCertificateEmbeddedSct: { chain: { certificates: string[] } } } };
}

describe('Fulcio', () => {
  test('certifies a valid token with the GitHub workflow identity as SAN and the issuer extension', async () => {
    const { status, body } = await requestCertificate(await stack.mintToken());
    expect(status).toBe(201);
    const [leafPem, rootPem] = body.signedCertificateEmbeddedSct.chain.certificates as string[];
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.subjectAltName).toBe(`URI:${DEFAULT_WORKFLOW_IDENTITY}`);
    expect(leaf.verify(new X509Certificate(rootPem!).publicKey)).toBe(true);
    expect(leaf.raw.includes(Buffer.from(stack.issuerUrl))).toBe(true);
  });

  test('a plain subject identity becomes the SAN as is', async () => {
    const { status, body } = await requestCertificate(await stack.mintToken({ identity: 'release-bot@example.com' }));
    expect(status).toBe(201);
    expect(new X509Certificate(body.signedCertificateEmbeddedSct.chain.certificates[0]!).subjectAltName).toContain('release-bot@example.com');
  });

  test.each([
    ['expired', { expiresIn: -30 }, /"exp" claim timestamp check failed/],
    ['forged (unknown key)', { forged: true }, /signature verification failed/],
    ['wrong audience', { audience: 'other' }, /unexpected "aud" claim value/],
    ['another issuer', { issuer: 'https://token.actions.githubusercontent.com' }, /unexpected "iss" claim value/],
  ])('refuses a token that is %s', async (_label, opts, message) => {
    const { status, body } = await requestCertificate(await stack.mintToken(opts));
    expect(status).toBe(401);
    expect(body.message).toMatch(message);
  });

  test('refuses a request without proof of possession of the key', async () => {
    const { status, body } = await requestCertificate(await stack.mintToken(), { proofOver: 'someone-else' });
    expect(status).toBe(400);
    expect(body.message).toMatch(/proof of possession/);
  });
});

describe('faults', () => {
  test('a service answers with the injected error until cleared; requests are counted', async () => {
    const before = stack.requests.fulcio;
    stack.fail('fulcio', { status: 503, message: 'down for maintenance' });
    expect(await requestCertificate(await stack.mintToken())).toEqual({ status: 503, body: { code: 503, message: 'down for maintenance' } });
    stack.fail('fulcio', null);
    expect((await requestCertificate(await stack.mintToken())).status).toBe(201);
    expect(stack.requests.fulcio).toBe(before + 2);
  });

  test('a hanging service never answers', async () => {
    stack.fail('rekor', 'hang');
    try {
      const started = Date.now();
      await expect(fetch(`${stack.rekorUrl}/api/v1/log/entries`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(300) })).rejects.toThrow(/timeout|abort/i);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      stack.fail('rekor', null);
    }
  });
});

describe('TSA', () => {
  test('timestamps carry a genTime @sigstore/core can parse (no or three fraction digits), every time', async () => {
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${stack.tsaUrl}/api/v1/timestamp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ artifactHash: Buffer.alloc(32, i).toString('base64'), hashAlgorithm: 'sha256' }),
      });
      expect(response.status).toBe(201);
      const der = Buffer.from(await response.arrayBuffer()).toString('latin1');
      const genTime = /\x18[\s\S](\d{14}(?:\.\d+)?Z)/.exec(der)?.[1];
      expect(genTime).toMatch(/^\d{14}(\.\d{3})?Z$/);
    }
  });
});

describe('issuer and trust root', () => {
  test('discovery, JWKS and the GitHub Actions token endpoint', async () => {
    const discovery = await (await fetch(`${stack.issuerUrl}/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({ issuer: stack.issuerUrl, jwks_uri: `${stack.issuerUrl}/jwks` });
    expect(((await (await fetch(`${stack.issuerUrl}/jwks`)).json()) as { keys: unknown[] }).keys).toHaveLength(1);
    const { url, token } = stack.actionsTokenRequest;
    const ok = await fetch(`${url}?audience=sigstore`, { headers: { Authorization: `Bearer ${token}` } });
    expect(decodeJwt(((await ok.json()) as { value: string }).value)).toMatchObject({
      iss: stack.issuerUrl,
      aud: 'sigstore',
      job_workflow_ref: 'wellmaintained/packages/.github/workflows/attest.yml@refs/heads/main',
    });
    expect((await fetch(url, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
  });

  test('the trusted root file holds what trustedRoot says', async () => {
    expect(JSON.parse(await readFile(stack.trustedRootPath, 'utf8'))).toEqual(stack.trustedRoot);
    expect(stack.trustedRoot).toMatchObject({ tlogs: [expect.objectContaining({ baseUrl: stack.rekorUrl })] });
  });
});

describe('connections', () => {
  // A keep-alive client reusing a socket the server is closing gets ECONNRESET; the stack never keeps one open.
  test('every answer closes its connection, so no client reuses a socket the server is closing', async () => {
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    const sockets = new Set<unknown>();
    const get = (path: string) =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        const req = request(`${stack.issuerUrl}${path}`, { agent }, (res) => {
          sockets.add(req.socket);
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (const path of ['/jwks', '/.well-known/openid-configuration', '/jwks']) expect(await get(path)).toEqual({ status: 200, connection: 'close' });
      const fulcio = await fetch(`${stack.fulcioUrl}/api/v2/signingCert`, { method: 'POST', body: '{}' });
      expect(fulcio.headers.get('connection')).toBe('close');
      expect(sockets.size).toBe(3);
    } finally {
      agent.destroy();
    }
  });
});
