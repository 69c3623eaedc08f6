import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReleaseError } from '@nixrel/core';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createKeylessSigner,
  customSigstoreServices,
  findIdentityToken,
  imageSignatureStatement,
  PUBLIC_GOOD,
  PUBLIC_GOOD_TUF_MIRROR,
  publicGoodTrustedRoot,
  tufOptionsFromEnv,
  verifyBundle,
} from '../src/index.js';
import { startTufMirror, type TufMirror } from './support/tuf-mirror.js';

const IMAGE = { repository: '127.0.0.1:5000/acme/app', digest: `sha256:${'c'.repeat(64)}` };

let stack: SigstoreStack;
let other: SigstoreStack;
let mirror: TufMirror;
let work: string;
let rootPath: string;

beforeAll(async () => {
  [stack, other] = await Promise.all([startSigstoreStack(), startSigstoreStack()]);
  mirror = await startTufMirror({ 'trusted_root.json': JSON.stringify(stack.trustedRoot) });
  work = await mkdtemp(join(tmpdir(), 'tuf-test-'));
  rootPath = join(work, 'root.json');
  await writeFile(rootPath, mirror.rootJson);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), other?.stop(), mirror?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

const freshCache = () => mkdtemp(join(work, 'cache-'));

async function failure(p: Promise<unknown>): Promise<ReleaseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ReleaseError);
    return e as ReleaseError;
  }
  throw new Error('expected a failure');
}

/** Target files the client kept (only verified ones may be there). */
async function cachedTargets(cachePath: string): Promise<string[]> {
  const [repoDir] = await readdir(cachePath);
  return readdir(join(cachePath, repoDir!, 'targets'));
}

describe('publicGoodTrustedRoot against a loopback TUF repository', () => {
  test('returns the trusted root the repository serves; bundles signed by that deployment verify with it', async () => {
    const cachePath = await freshCache();
    const trust = await publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath });
    expect(trust.mode).toBe('keyless');
    if (trust.mode !== 'keyless') throw new Error('not keyless');
    expect(TrustedRoot.toJSON(trust.trustedRoot)).toEqual(TrustedRoot.toJSON(TrustedRoot.fromJSON(stack.trustedRoot)));
    expect([...trust.tlogUrls.values()]).toEqual([stack.rekorUrl]);

    const token = await findIdentityToken({ token: await stack.mintToken(), env: {} });
    const signer = createKeylessSigner({ identityToken: token!, fulcioUrl: stack.fulcioUrl, rekorUrl: stack.rekorUrl, tsaUrl: stack.tsaUrl, retries: 0 });
    const statement = imageSignatureStatement(IMAGE);
    const signed = await signer.sign(statement);
    const policy = { certificateIdentity: DEFAULT_WORKFLOW_IDENTITY, certificateOidcIssuer: stack.issuerUrl };
    expect(verifyBundle(signed.bytes, { trust, policy, imageDigest: IMAGE.digest, predicateType: statement.predicateType })).toMatchObject({
      signerMode: 'keyless',
      rekorUrl: stack.rekorUrl,
    });
    expect(await cachedTargets(cachePath)).toEqual(['trusted_root.json']);
  });

  test('a second fetch with the cache checks freshness only and does not download the target again', async () => {
    const cachePath = await freshCache();
    await publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath });
    const before = mirror.requests.length;
    const trust = await publicGoodTrustedRoot({ mirrorUrl: `${mirror.url}/`, cachePath });
    expect(trust.mode).toBe('keyless');
    const asked = mirror.requests.slice(before);
    expect(asked).toContain('/timestamp.json');
    expect(asked).not.toContain('/targets/trusted_root.json');
  });

  // The tampered target's length differs from the signed one: depending on how the body arrives,
  // the TUF client stops on the length or on the hash. Each rejects it.
  test('a tampered trusted_root.json target is rejected and not cached', async () => {
    const cachePath = await freshCache();
    mirror.serve('/targets/trusted_root.json', { status: 200, body: JSON.stringify(other.trustedRoot) });
    try {
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath, retries: 0 }));
      expect(e.code).toBe('VERIFICATION_FAILED');
      expect(e.message).toMatch(new RegExp(`^TUF mirror ${mirror.url} served metadata or a trusted root that does not verify: (Expected hash [0-9a-f]{64} but got [0-9a-f]{64}|Expected length \\d+ but got \\d+|Max length reached)$`));
      expect(await cachedTargets(cachePath)).toEqual([]);
    } finally {
      mirror.serve('/targets/trusted_root.json', null);
    }
  });

  test('metadata signed by a key the root does not list is rejected', async () => {
    const foreign = await startTufMirror({ 'trusted_root.json': JSON.stringify(other.trustedRoot) });
    try {
      const cachePath = await freshCache();
      mirror.serve('/timestamp.json', { status: 200, body: foreign.metadata['timestamp.json']! });
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath, retries: 0 }));
      expect(e.code).toBe('VERIFICATION_FAILED');
      expect(e.message).toMatch(/does not verify: timestamp was signed by 0\/1 keys$/);
      expect(await cachedTargets(cachePath)).toEqual([]);
    } finally {
      mirror.serve('/timestamp.json', null);
      await foreign.stop();
    }
  });

  test('an unreachable mirror gives a network error naming it', async () => {
    const closed = await freePort();
    const url = `http://127.0.0.1:${closed}`;
    const started = Date.now();
    const e = await failure(publicGoodTrustedRoot({ mirrorUrl: url, rootPath, cachePath: await freshCache(), retries: 0, timeoutMs: 2000 }));
    expect(e.code).toBe('NETWORK_ERROR');
    expect(e.exitCode).toBe(11);
    expect(e.message).toContain(`cannot reach TUF mirror ${url} for the Sigstore trusted root`);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a mirror that never answers times out with a network error', async () => {
    mirror.serve('/timestamp.json', 'hang');
    try {
      const started = Date.now();
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath: await freshCache(), retries: 0, timeoutMs: 300 }));
      expect(e.code).toBe('NETWORK_ERROR');
      expect(e.message).toContain(`cannot reach TUF mirror ${mirror.url} for the Sigstore trusted root`);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      mirror.serve('/timestamp.json', null);
    }
  });

  test('a mirror answering with an HTTP error gives a network error with the status', async () => {
    mirror.serve('/timestamp.json', { status: 503, body: 'maintenance' });
    try {
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath, cachePath: await freshCache(), retries: 0 }));
      expect(e.code).toBe('NETWORK_ERROR');
      expect(e.message).toContain(`TUF mirror ${mirror.url} answered HTTP 503`);
    } finally {
      mirror.serve('/timestamp.json', null);
    }
  });

  test('a well-signed target that is not a usable trusted root is refused', async () => {
    const odd = await startTufMirror({ 'trusted_root.json': JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }) });
    try {
      const root = join(work, 'odd-root.json');
      await writeFile(root, odd.rootJson);
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: odd.url, rootPath: root, cachePath: await freshCache(), retries: 0 }));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toBe(`trusted root from TUF mirror ${odd.url} lists no certificate authority or no transparency log`);
    } finally {
      await odd.stop();
    }
  });

  test('a repository without a trusted_root.json target is refused', async () => {
    const empty = await startTufMirror({ 'other.json': '{}' });
    try {
      const root = join(work, 'empty-root.json');
      await writeFile(root, empty.rootJson);
      const e = await failure(publicGoodTrustedRoot({ mirrorUrl: empty.url, rootPath: root, cachePath: await freshCache(), retries: 0 }));
      expect(e.code).toBe('NOT_FOUND');
      expect(e.message).toBe(`TUF mirror ${empty.url} lists no trusted_root.json target`);
    } finally {
      await empty.stop();
    }
  });

  test('a mirror other than the public-good one needs its root.json; a missing root file is named', async () => {
    const before = mirror.requests.length;
    const noRoot = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, cachePath: await freshCache() }));
    expect(noRoot.code).toBe('USAGE');
    expect(noRoot.message).toContain(`TUF mirror ${mirror.url} has no built-in root.json`);

    const absent = join(work, 'absent-root.json');
    const missing = await failure(publicGoodTrustedRoot({ mirrorUrl: mirror.url, rootPath: absent, cachePath: await freshCache() }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(`TUF root ${absent} does not exist`);
    expect(mirror.requests.length).toBe(before);
  });
});

describe('defaults', () => {
  test('the public-good mirror is the one whose root.json ships with the client', () => {
    const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<string, unknown>;
    expect(PUBLIC_GOOD_TUF_MIRROR).toBe('https://tuf-repo-cdn.sigstore.dev');
    expect(Object.keys(seeds)).toContain(PUBLIC_GOOD_TUF_MIRROR);
  });

  test('RELEASE_TUF_MIRROR_URL and RELEASE_TUF_ROOT select another mirror', () => {
    expect(tufOptionsFromEnv({})).toEqual({});
    expect(tufOptionsFromEnv({ RELEASE_TUF_MIRROR_URL: 'http://127.0.0.1:1', RELEASE_TUF_ROOT: '/r.json' })).toEqual({
      mirrorUrl: 'http://127.0.0.1:1',
      rootPath: '/r.json',
    });
  });

  test('customSigstoreServices names each service that is not the public-good instance', () => {
    expect(customSigstoreServices({})).toEqual([]);
    expect(customSigstoreServices({ ...PUBLIC_GOOD })).toEqual([]);
    expect(customSigstoreServices({ fulcioUrl: `${PUBLIC_GOOD.fulcioUrl}/`, rekorUrl: 'http://127.0.0.1:9/rekor', tsaUrl: 'http://127.0.0.1:9/tsa' })).toEqual([
      'Rekor http://127.0.0.1:9/rekor',
      'TSA http://127.0.0.1:9/tsa',
    ]);
  });
});

/** A loopback port nobody listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
