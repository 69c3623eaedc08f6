import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '@nixrel/core';
import { type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findIdentityToken, freshIdentityToken, identityPattern, predicateTypeFromName, RENEW_BEFORE_EXPIRY_MS } from '../src/index.js';

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

describe('freshIdentityToken', () => {
  test('a token far from expiry is kept; one within a minute of it is renewed from its source', async () => {
    const file = join(dir, 'renewed');
    await writeFile(file, await stack.mintToken({ expiresIn: 600 }));
    const first = await findIdentityToken({ tokenFile: file, env: {} });
    const current = freshIdentityToken(first!);
    expect((await current()).token).toBe(first!.token);
    // The file is rewritten with a token that has less than a minute left: it is read again on every use.
    const nearExpiry = await stack.mintToken({ expiresIn: RENEW_BEFORE_EXPIRY_MS / 1000 - 10 });
    const clock = () => first!.expiresAt!.getTime() - RENEW_BEFORE_EXPIRY_MS + 1;
    await writeFile(file, nearExpiry);
    expect((await freshIdentityToken(first!, clock)()).token).toBe(nearExpiry);
  });

  test('the Actions endpoint is asked again for every use of a short-lived token', async () => {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: stack.actionsTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.actionsTokenRequest.token };
    const first = await findIdentityToken({ env });
    const issued = stack.actionsTokensIssued();
    // Ten minutes on: the held token is within a minute of its expiry.
    const current = freshIdentityToken(first!, () => first!.expiresAt!.getTime() - 1_000);
    const renewed = await current();
    expect(renewed).toMatchObject({ source: 'github-actions', issuer: stack.issuerUrl });
    expect(stack.actionsTokensIssued()).toBe(issued + 1);
    expect(redact(renewed.token)).toBe('[REDACTED]');
  });

  test('a token that cannot be renewed is used until it expires, then refused with the reason', async () => {
    const token = await findIdentityToken({ env: { SIGSTORE_ID_TOKEN: await stack.mintToken({ expiresIn: 30 }) } });
    const expiry = token!.expiresAt!.getTime();
    expect((await freshIdentityToken(token!, () => expiry - 1_000)()).token).toBe(token!.token);
    await expect(freshIdentityToken(token!, () => expiry)()).rejects.toMatchObject({
      code: 'IDENTITY_TOKEN_ERROR',
      message: expect.stringMatching(/identity token from SIGSTORE_ID_TOKEN \(issuer .*\) expired at .* its source cannot give another/),
    });
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
