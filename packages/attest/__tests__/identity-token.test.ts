import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '@nixrel/core';
import { type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findIdentityToken, identityPattern, predicateTypeFromName } from '../src/index.js';

let stack: SigstoreStack;
let dir: string;
beforeAll(async () => {
  stack = await startSigstoreStack();
  dir = await mkdtemp(join(tmpdir(), 'attest-token-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('findIdentityToken', () => {
  test('order: flag, file, SIGSTORE_ID_TOKEN, GitHub Actions; none -> undefined', async () => {
    const [a, b, c] = await Promise.all([stack.mintToken(), stack.mintToken(), stack.mintToken()]);
    const file = join(dir, 'token');
    await writeFile(file, `${b}\n`);
    const gha = { ACTIONS_ID_TOKEN_REQUEST_URL: stack.actionsTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.actionsTokenRequest.token };
    expect((await findIdentityToken({ token: a, tokenFile: file, env: { SIGSTORE_ID_TOKEN: c } }))?.source).toBe('--identity-token');
    expect(await findIdentityToken({ tokenFile: file, env: { SIGSTORE_ID_TOKEN: c } })).toMatchObject({ source: '--identity-token-file', token: b });
    expect(await findIdentityToken({ env: { SIGSTORE_ID_TOKEN: c, ...gha } })).toMatchObject({ source: 'SIGSTORE_ID_TOKEN', token: c });
    const fromActions = await findIdentityToken({ env: gha });
    expect(fromActions).toMatchObject({ source: 'github-actions', issuer: stack.issuerUrl });
    expect(await findIdentityToken({ env: {} })).toBeUndefined();
    // Every token found is a registered secret.
    expect(redact(`x ${fromActions!.token} ${b}`)).toBe('x [REDACTED] [REDACTED]');
  });

  test('refused: expired, not a JWT, empty, unreadable file, bad Actions request token', async () => {
    await expect(findIdentityToken({ token: await stack.mintToken({ expiresIn: -60 }), env: {} })).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ERROR',
      message: expect.stringMatching(/identity token from --identity-token \(issuer .*\) expired at/),
    });
    await expect(findIdentityToken({ token: 'abc.def', env: {} })).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: 'identity token from --identity-token is not a JWT' });
    await expect(findIdentityToken({ token: ' ', env: {} })).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR' });
    await expect(findIdentityToken({ tokenFile: join(dir, 'nope'), env: {} })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(join(dir, 'nope')) });
    await expect(
      findIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: stack.actionsTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong-token' } }),
    ).rejects.toMatchObject({ code: 'IDENTITY_TOKEN_ERROR', message: expect.stringMatching(/answered 401.*id-token: write/) });
  });
});

describe('policy', () => {
  test('identities are always anchored', () => {
    expect(identityPattern({ certificateIdentity: 'https://a.b/c' })).toBe('^https://a\\.b/c$');
    expect(identityPattern({ certificateIdentityRegexp: 'https://a\\.b/.*' })).toBe('^(?:https://a\\.b/.*)$');
    // An alternation cannot escape the anchors.
    expect(new RegExp(identityPattern({ certificateIdentityRegexp: 'x|https://evil' })).test('https://evil/more')).toBe(false);
    expect(() => identityPattern({ certificateIdentityRegexp: '(' })).toThrow(/POLICY_INVALID: certificate identity regexp "\(" is invalid/);
    expect(() => identityPattern({ certificateIdentity: 'a', certificateIdentityRegexp: 'a' })).toThrow(/not both/);
  });
  test('cosign --type names map to predicate types', () => {
    expect(predicateTypeFromName('slsaprovenance1')).toBe('https://slsa.dev/provenance/v1');
    expect(predicateTypeFromName('slsaprovenance')).toBe('https://slsa.dev/provenance/v0.2');
    expect(predicateTypeFromName('cyclonedx')).toBe('https://cyclonedx.org/bom');
    expect(predicateTypeFromName('https://example.com/p/v1')).toBe('https://example.com/p/v1');
    expect(() => predicateTypeFromName('sbom')).toThrow(/unknown attestation type "sbom"/);
  });
});
