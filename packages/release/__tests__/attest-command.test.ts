import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildProvenance } from '@nixrel/attest';
import { type AttestationRecord, createLogger, isReleaseError } from '@nixrel/core';
import { listReferrers, pushImage } from '@nixrel/oci';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CliContext } from '../src/cli-context.js';
import { run } from '../src/commands/attest.js';

const REPO_ROOT = new URL('../../..', import.meta.url).pathname;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BOM = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { type: 'container', name: 'app' } }, components: [] };

let registry: RegistryHandle;
let stack: SigstoreStack;
let work: string;
let sbomPath: string;

/** Pushes a small distinct image and returns `<host>/<repo>@<digest>`. */
async function pushTestImage(seed: string, repo = 'acme/app'): Promise<string> {
  const archive = join(work, `${seed}.tar`);
  await writeDockerArchive(archive, { layers: [{ files: [{ name: 'hello.txt', data: `hello ${seed}\n` }] }], seed });
  const published = await pushImage({ path: archive }, `${registry.url}/${repo}`);
  return `${registry.url}/${repo}@${published.digest}`;
}

async function provenanceFor(image: string, name: string): Promise<string> {
  const [repository, digest] = image.split('@') as [string, string];
  const statement = buildProvenance({
    image: { repository, digest },
    flake: { ref: `path:${work}`, attribute: 'packages.x86_64-linux.app' },
    source: { repository: 'https://github.com/wellmaintained/packages', ref: 'refs/heads/main', commit: COMMIT },
    collection: 'examples',
    releaseVersion: '0.1.0',
    nix: { version: '2.8.0', system: 'x86_64-linux' },
  });
  const path = join(work, `${name}.intoto.json`);
  await writeFile(path, JSON.stringify(statement));
  return path;
}

function context(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const log: string[] = [];
  const ctx: CliContext = { repoRoot: work, out: (t) => out.push(t), logger: createLogger({ write: (l) => log.push(l) }), env };
  return { ctx, out, log };
}

const keylessArgs = (token: string) => [
  '--identity-token',
  token,
  '--fulcio-url',
  stack.fulcioUrl,
  '--rekor-url',
  stack.rekorUrl,
  '--tsa-url',
  stack.tsaUrl,
  '--trusted-root',
  stack.trustedRootPath,
];

async function expectFailure(p: Promise<unknown>, code: string, message: RegExp) {
  const e = await p.then(
    () => {
      throw new Error('command unexpectedly succeeded');
    },
    (err: unknown) => err,
  );
  expect(isReleaseError(e), String(e)).toBe(true);
  expect(e).toMatchObject({ code, message: expect.stringMatching(message) });
}

beforeAll(async () => {
  [registry, stack] = await Promise.all([startRegistry(), startSigstoreStack()]);
  work = await mkdtemp(join(tmpdir(), 'attest-cmd-'));
  await writeFile(join(work, 'pnpm-workspace.yaml'), 'packages: []\n');
  sbomPath = join(work, 'app.cdx.json');
  await writeFile(sbomPath, JSON.stringify(BOM));
});
afterAll(async () => {
  await Promise.all([registry?.stop(), stack?.stop()]);
  await rm(work, { recursive: true, force: true });
});

describe('keyless', () => {
  test('signs, verifies and attaches the three bundles in cosign v3 layout, found through the fallback index', async () => {
    const image = await pushTestImage('keyless');
    const provenance = await provenanceFor(image, 'keyless');
    const { ctx, out, log } = context();
    await run([image, '--sbom', sbomPath, '--provenance', provenance, ...keylessArgs(await stack.mintToken()), '--json'], ctx);
    const result = JSON.parse(out.join('\n')) as { signer: { mode: string }; attestations: AttestationRecord[] };
    expect(result.signer.mode).toBe('keyless');
    expect(result.attestations.map((a) => a.predicateType)).toEqual([
      'https://sigstore.dev/cosign/sign/v1',
      'https://slsa.dev/provenance/v1',
      'https://cyclonedx.org/bom',
    ]);
    for (const a of result.attestations) {
      expect(a).toMatchObject({ signerMode: 'keyless', signerIdentity: DEFAULT_WORKFLOW_IDENTITY, issuer: stack.issuerUrl, rekorUrl: stack.rekorUrl });
      expect(typeof a.rekorLogIndex).toBe('number');
      expect((await stat(join(work, a.bundlePath))).isFile()).toBe(true);
    }
    expect(log.join('\n')).toMatch(/signer: keyless/);

    // The registry has no referrers API: the bundles are listed by the sha256-<hex> fallback index.
    const [name, digest] = image.split('@') as [string, string];
    const repo = name.slice(registry.url.length + 1);
    expect((await fetch(`http://${registry.url}/v2/${repo}/referrers/${digest}`)).status).toBe(404);
    const index = await fetch(`http://${registry.url}/v2/${repo}/manifests/${digest.replace(':', '-')}`, {
      headers: { Accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(index.status).toBe(200);
    expect(((await index.json()) as { manifests: unknown[] }).manifests).toHaveLength(3);

    const referrers = await listReferrers(image);
    expect(referrers.map((r) => r.digest).sort()).toEqual(result.attestations.map((a) => a.referrerDigest).sort());
    for (const r of referrers) {
      expect(r.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(r.annotations).toMatchObject({ 'dev.sigstore.bundle.content': 'dsse-envelope', 'org.opencontainers.image.created': expect.any(String) });
    }
    expect(referrers.map((r) => r.annotations['dev.sigstore.bundle.predicateType']).sort()).toEqual(
      result.attestations.map((a) => a.predicateType).sort(),
    );
    // The referrer manifest itself: empty config, one bundle layer, subject = the image.
    const manifest = await fetch(`http://${registry.url}/v2/${repo}/manifests/${referrers[0]!.digest}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(await manifest.json()).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 },
      layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      subject: { digest },
    });
  });

  test('takes the token from the GitHub Actions token endpoint when it runs in a job', async () => {
    const image = await pushTestImage('actions');
    const { ctx, out } = context({
      ACTIONS_ID_TOKEN_REQUEST_URL: stack.actionsTokenRequest.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.actionsTokenRequest.token,
    });
    const args = keylessArgs('').slice(2); // every service flag, no explicit token
    await run([image, '--sbom', sbomPath, ...args], ctx);
    expect(out.join('\n')).toMatch(/OIDC token from github-actions/);
    expect(out.join('\n')).toContain(`keyless identity ${DEFAULT_WORKFLOW_IDENTITY}`);
    expect(await listReferrers(image)).toHaveLength(2); // signature + SBOM: no provenance was given
  });
});

describe('key', () => {
  test('without a token: creates the local key (0600), signs, labels every output NOT keyless', async () => {
    const image = await pushTestImage('key');
    const { ctx, out, log } = context();
    await run([image, '--sbom', sbomPath, '--provenance', await provenanceFor(image, 'key')], ctx);
    const keyPath = join(work, '.release', 'keys', 'signing-key.pem');
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const text = out.join('\n');
    expect(text).toMatch(/signer: key \(NOT keyless/);
    expect(text.match(/\(NOT keyless\)/g)).toHaveLength(3);
    expect(log.join('\n')).toMatch(/no OIDC token available: signing with the local key \(NOT keyless\)/);
    expect(await listReferrers(image)).toHaveLength(3);
  });

  test('--key FILE signs with that key; keyless-only flags are refused with it', async () => {
    const image = await pushTestImage('keyfile');
    const keyDir = join(work, 'other-keys');
    await mkdir(keyDir);
    const { loadOrCreateSigningKey } = await import('@nixrel/attest');
    const key = await loadOrCreateSigningKey(keyDir);
    const { ctx, out } = context();
    await run([image, '--sbom', sbomPath, '--key', key.path, '--json'], ctx);
    const records = (JSON.parse(out.join('\n')) as { attestations: AttestationRecord[] }).attestations;
    expect(records.every((r) => r.signerMode === 'key' && r.keyFingerprint === key.fingerprint)).toBe(true);
    await expectFailure(run([image, '--sbom', sbomPath, '--key', key.path, '--fulcio-url', 'http://x'], context().ctx), 'USAGE', /--fulcio-url only apply to keyless/);
  });
});

describe('signing failures attach nothing', () => {
  let image: string;
  beforeAll(async () => {
    image = await pushTestImage('failures');
  });
  const attempt = async (args: string[], env = {}) => run([image, '--sbom', sbomPath, ...args], context(env).ctx);

  test.each([
    ['Fulcio error', 'fulcio', { status: 503, message: 'fulcio is down' }, /Fulcio at http:\/\/127\.0\.0\.1:\d+ failed: .*fulcio is down/],
    ['Rekor error', 'rekor', { status: 500, message: 'rekor exploded' }, /Rekor at http:\/\/127\.0\.0\.1:\d+ failed: .*rekor exploded/],
    ['Fulcio timeout', 'fulcio', 'hang', /Fulcio at .* failed: .*(timeout|timed out)/i],
    ['Rekor timeout', 'rekor', 'hang', /Rekor at .* failed: .*(timeout|timed out)/i],
  ] as const)('%s', async (_label, service, fault, message) => {
    stack.fail(service, fault);
    try {
      await expectFailure(attempt([...keylessArgs(await stack.mintToken()), '--timeout', '1']), 'SIGNING_ERROR', message);
    } finally {
      stack.fail(service, null);
    }
    expect(await listReferrers(image)).toEqual([]);
  });

  test('an expired token is refused before any service is called', async () => {
    const before = { ...stack.requests };
    await expectFailure(attempt(keylessArgs(await stack.mintToken({ expiresIn: -60 }))), 'IDENTITY_TOKEN_ERROR', /identity token from --identity-token .* expired at/);
    expect(stack.requests).toEqual(before);
    expect(await listReferrers(image)).toEqual([]);
  });

  test('a forged token is refused by Fulcio', async () => {
    await expectFailure(attempt(keylessArgs(await stack.mintToken({ forged: true }))), 'SIGNING_ERROR', /Fulcio at .* identity token rejected: signature verification failed/);
    expect(await listReferrers(image)).toEqual([]);
  });

  test('bundles that do not verify against the trusted root are not attached', async () => {
    const other = await startSigstoreStack();
    try {
      const args = keylessArgs(await stack.mintToken());
      args[args.indexOf('--trusted-root') + 1] = other.trustedRootPath;
      await expectFailure(attempt(args), 'VERIFICATION_FAILED', /failed verification right after signing \(nothing attached\): CERTIFICATE_UNTRUSTED/);
    } finally {
      await other.stop();
    }
    expect(await listReferrers(image)).toEqual([]);
  });
});

describe('bad input: clear error, nothing attached', () => {
  let image: string;
  beforeAll(async () => {
    image = await pushTestImage('bad-input');
  });
  test.each([
    ['no digest', () => [image.split('@')[0]!, '--sbom', sbomPath], 'INVALID_INPUT', /must name a digest/],
    ['no --sbom', () => [image], 'USAGE', /--sbom FILE is required/],
    ['missing SBOM file', () => [image, '--sbom', join(work, 'nope.json')], 'NOT_FOUND', /SBOM not found: .*nope\.json/],
    ['SBOM not CycloneDX', () => [image, '--sbom', join(work, 'not-a-bom.json')], 'INVALID_INPUT', /not a CycloneDX JSON document/],
    ['provenance of another image', () => [image, '--sbom', sbomPath, '--provenance', join(work, 'keyless.intoto.json')], 'INVALID_INPUT', /provenance .*keyless\.intoto\.json is not about sha256:/],
    ['unknown signer', () => [image, '--sbom', sbomPath, '--signer', 'gpg'], 'USAGE', /--signer must be "keyless" or "key", not "gpg"/],
    ['keyless without a token', () => [image, '--sbom', sbomPath, '--signer', 'keyless'], 'IDENTITY_TOKEN_ERROR', /keyless signing needs an OIDC token/],
    ['unknown flag', () => [image, '--sbom', sbomPath, '--sign-harder'], 'USAGE', /Unknown option '--sign-harder'/],
    ['image not in the registry', () => [`${registry.url}/acme/absent@sha256:${'0'.repeat(64)}`, '--sbom', sbomPath], 'NOT_FOUND', /not found/],
    ['bad timeout', () => [image, '--sbom', sbomPath, '--timeout', 'soon'], 'USAGE', /--timeout must be a positive number/],
  ] as const)('%s', async (_label, args, code, message) => {
    await writeFile(join(work, 'not-a-bom.json'), '{"spdxVersion":"SPDX-2.3"}');
    await expectFailure(run(args(), context().ctx), code, message);
    expect(await listReferrers(image)).toEqual([]);
  });

  test('keyless without a trusted root', async () => {
    const args = keylessArgs(await stack.mintToken());
    args.splice(args.indexOf('--trusted-root'), 2);
    await expectFailure(run([image, '--sbom', sbomPath, ...args], context().ctx), 'USAGE', /pass --trusted-root FILE/);
    expect(await listReferrers(image)).toEqual([]);
  });
});

describe('secrets', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['--conditions=source', join(REPO_ROOT, 'packages/release/src/cli.ts'), 'release', 'attest', ...args], {
      cwd: work,
      env: { PATH: process.env.PATH!, HOME: work, INIT_CWD: work, ...env },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  test('tokens and private keys never reach stdout or stderr, on success or failure', async () => {
    const image = await pushTestImage('secrets');
    const token = await stack.mintToken();
    const forged = await stack.mintToken({ forged: true });
    const expired = await stack.mintToken({ expiresIn: -60 });
    const keyPem = await readFile(join(work, 'other-keys', 'signing-key.pem'), 'utf8');
    const tokenFile = join(work, 'token.jwt');
    await writeFile(tokenFile, forged);
    const runs = await Promise.all([
      cli([image, '--sbom', sbomPath, ...keylessArgs(token), '--json']),
      cli([image, '--sbom', sbomPath, ...keylessArgs(forged)]),
      cli([image, '--sbom', sbomPath, ...keylessArgs(expired).slice(2), '--identity-token-file', tokenFile]),
      cli([image, '--sbom', sbomPath, ...keylessArgs(expired).slice(2)], { SIGSTORE_ID_TOKEN: expired }),
      cli([image, '--sbom', sbomPath, '--key', join(work, 'other-keys', 'signing-key.pem'), '--fulcio-url', 'http://x']),
      cli([image, '--sbom', sbomPath, '--signer', 'key', '--key', join(work, 'other-keys', 'signing-key.pem')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 14, 14, 15, 2, 0]);
    const keyBody = keyPem.split('\n')[1]!;
    for (const r of runs) {
      for (const secret of [token, forged, expired, keyBody, token.split('.')[2]!, forged.split('.')[2]!]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/PRIVATE KEY/);
    }
    expect(runs[1]!.stderr).toMatch(/error: Fulcio at .* identity token rejected/);
    expect(runs[3]!.stderr).toMatch(/identity token from SIGSTORE_ID_TOKEN .* expired/);
  });
});
