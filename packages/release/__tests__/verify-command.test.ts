import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, } from 'node:path';
import {
  BUNDLE_V03_MEDIA_TYPE,
  buildProvenance,
  createKeylessSigner,
  createKeySigner,
  findIdentityToken,
  keylessTrust,
  keyTrust,
  loadOrCreateSigningKey,
} from '@nixrel/attest';
import { type AttestationRecord, createLogger, isReleaseError, } from '@nixrel/core';
import { attachReferrer, fetchReferrerLayer, listReferrers, pushImage } from '@nixrel/oci';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CliContext } from '../src/cli-context.js';
import { run } from '../src/commands/verify.js';
import { attestImage } from '../src/stages/attest.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BOM = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] };

let registry: RegistryHandle;
let stack: SigstoreStack;
let other: SigstoreStack;
let work: string;
let keyless: { image: string; records: AttestationRecord[] };
let keySigned: { image: string; records: AttestationRecord[]; publicKeyPath: string };

async function pushTestImage(seed: string): Promise<string> {
  const archive = join(work, `${seed}.tar`);
  await writeDockerArchive(archive, { layers: [{ files: [{ name: 'hello.txt', data: `hello ${seed}\n` }] }], seed });
  return `${registry.url}/acme/app@${(await pushImage({ path: archive }, `${registry.url}/acme/app`)).digest}`;
}

async function attestFiles(image: string, name: string) {
  const [repository, digest] = image.split('@') as [string, string];
  const provenancePath = join(work, `${name}.intoto.json`);
  const statement = buildProvenance({
    image: { repository, digest },
    flake: { ref: `path:${work}`, attribute: 'packages.x86_64-linux.app' },
    source: { repository: 'https://github.com/wellmaintained/packages', commit: COMMIT },
    collection: 'examples',
    releaseVersion: '0.1.0',
    nix: { version: '2.8.0', system: 'x86_64-linux' },
  });
  await writeFile(provenancePath, JSON.stringify(statement));
  const sbomPath = join(work, `${name}.cdx.json`);
  await writeFile(sbomPath, JSON.stringify(BOM));
  return { provenancePath, sbomPath, bundleDir: join(work, 'release', 'bundles', name), recordsRelativeTo: join(work, 'release') };
}

function context() {
  const out: string[] = [];
  const ctx: CliContext = { repoRoot: work, out: (t) => out.push(t), logger: createLogger({ write: () => {} }), env: {} };
  return { ctx, out };
}

async function verifyFails(args: string[], reason: RegExp) {
  const { ctx, out } = context();
  const e = await run(args, ctx).then(
    () => {
      throw new Error('verification unexpectedly passed');
    },
    (err: unknown) => err,
  );
  expect(isReleaseError(e, 'VERIFICATION_FAILED'), String(e)).toBe(true);
  expect(e).toMatchObject({ message: expect.stringMatching(/^verification failed for /), details: expect.arrayContaining([expect.stringMatching(reason)]) });
  expect(out.join('\n')).toMatch(/^FAILED /);
  expect(out.join('\n')).toMatch(reason);
  return out.join('\n');
}

const keylessPolicy = () => [
  '--certificate-identity',
  DEFAULT_WORKFLOW_IDENTITY,
  '--certificate-oidc-issuer',
  stack.issuerUrl,
  '--trusted-root',
  stack.trustedRootPath,
];

beforeAll(async () => {
  [registry, stack, other] = await Promise.all([startRegistry(), startSigstoreStack(), startSigstoreStack()]);
  work = await mkdtemp(join(tmpdir(), 'verify-cmd-'));
  const token = await findIdentityToken({ token: await stack.mintToken(), env: {} });
  const keylessImage = await pushTestImage('keyless');
  keyless = {
    image: keylessImage,
    records: await attestImage({
      image: keylessImage,
      ...(await attestFiles(keylessImage, 'keyless')),
      signer: createKeylessSigner({ identityToken: token!, fulcioUrl: stack.fulcioUrl, rekorUrl: stack.rekorUrl, tsaUrl: stack.tsaUrl }),
      trust: keylessTrust(stack.trustedRoot),
      expectedIssuer: stack.issuerUrl,
    }),
  };
  const key = await loadOrCreateSigningKey(join(work, 'release', 'keys'));
  const keyImage = await pushTestImage('key');
  keySigned = {
    image: keyImage,
    publicKeyPath: key.publicKeyPath!,
    records: await attestImage({ image: keyImage, ...(await attestFiles(keyImage, 'key')), signer: createKeySigner(key), trust: keyTrust(key.publicKey) }),
  };
});
afterAll(async () => {
  await Promise.all([registry?.stop(), stack?.stop(), other?.stop()]);
  await rm(work, { recursive: true, force: true });
});

describe('image', () => {
  test('keyless: the signature, provenance and SBOM all verify; says what it verified', async () => {
    const { ctx, out } = context();
    await run([keyless.image, ...keylessPolicy()], ctx);
    const text = out.join('\n');
    expect(text).toMatch(new RegExp(`^verified ${keyless.image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    for (const type of ['https://sigstore.dev/cosign/sign/v1', 'https://slsa.dev/provenance/v1', 'https://cyclonedx.org/bom']) {
      expect(text).toContain(`ok    ${type}  keyless identity ${DEFAULT_WORKFLOW_IDENTITY} issuer ${stack.issuerUrl} rekor #`);
    }
  });

  test('--type picks attestation types by cosign name; --json gives one document', async () => {
    const { ctx, out } = context();
    await run([keyless.image, '--type', 'slsaprovenance1', ...keylessPolicy(), '--json'], ctx);
    const doc = JSON.parse(out.join('\n'));
    expect(doc).toMatchObject({ ok: true, images: [{ image: keyless.image, ok: true, verified: ['https://slsa.dev/provenance/v1'], failures: [] }] });
    expect(doc.images[0].attestations[0]).toMatchObject({ signerMode: 'keyless', identity: DEFAULT_WORKFLOW_IDENTITY });
  });

  test('a regexp spanning the whole identity is accepted', async () => {
    const { ctx } = context();
    const policy = keylessPolicy();
    policy.splice(0, 2, '--certificate-identity-regexp', 'https://github\\.com/wellmaintained/packages/\\.github/workflows/.*@refs/heads/main');
    await run([keyless.image, ...policy], ctx);
  });

  test('key-signed: verifies with the public key, labelled NOT keyless', async () => {
    const { ctx, out } = context();
    await run([keySigned.image, '--key', keySigned.publicKeyPath], ctx);
    expect(out.join('\n').match(/\(NOT keyless\)/g)).toHaveLength(3);
  });

  test('wrong identity', async () => {
    const policy = keylessPolicy();
    policy[1] = 'https://github.com/wellmaintained/packages/.github/workflows/other.yml@refs/heads/main';
    await verifyFails([keyless.image, ...policy], /IDENTITY_MISMATCH: certificate identity is "https:\/\/github.com\/wellmaintained\/packages\/\.github\/workflows\/attest\.yml@refs\/heads\/main"/);
  });

  test('an identity given as an unanchored prefix does not match more', async () => {
    const policy = keylessPolicy();
    policy.splice(0, 2, '--certificate-identity-regexp', 'https://github\\.com/wellmaintained/');
    await verifyFails([keyless.image, ...policy], /IDENTITY_MISMATCH/);
    const exact = keylessPolicy();
    exact[1] = 'https://github.com/wellmaintained/';
    await verifyFails([keyless.image, ...exact], /IDENTITY_MISMATCH/);
  });

  test('wrong issuer', async () => {
    const policy = keylessPolicy();
    policy[3] = 'https://token.actions.githubusercontent.com';
    await verifyFails([keyless.image, ...policy], /ISSUER_MISMATCH: certificate OIDC issuer is "http:\/\/127\.0\.0\.1/);
  });

  test('a foreign trust root', async () => {
    const policy = keylessPolicy();
    policy[5] = other.trustedRootPath;
    await verifyFails([keyless.image, ...policy], /CERTIFICATE_UNTRUSTED/);
  });

  test('a missing attestation type', async () => {
    await verifyFails([keyless.image, '--type', 'spdx', ...keylessPolicy()], /ATTESTATION_MISSING: no https:\/\/spdx\.dev\/Document attestation/);
  });

  test('the wrong key, and keyless bundles checked against a key', async () => {
    const strangerDir = join(work, 'stranger');
    const stranger = await loadOrCreateSigningKey(strangerDir);
    await verifyFails([keySigned.image, '--key', stranger.publicKeyPath!], /KEY_MISMATCH/);
    await verifyFails([keyless.image, '--key', keySigned.publicKeyPath], /SIGNER_MODE_MISMATCH/);
  });

  test('an attestation copied onto another image (subject mismatch), and a tampered one', async () => {
    const victim = await pushTestImage('victim');
    const provenance = keyless.records.find((r) => r.predicateType === 'https://slsa.dev/provenance/v1')!;
    const copied = await fetchReferrerLayer(keyless.image, provenance.referrerDigest);
    const annotations = { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' };
    await attachReferrer(victim, { artifactType: BUNDLE_V03_MEDIA_TYPE, layerMediaType: BUNDLE_V03_MEDIA_TYPE, data: copied.data, annotations });
    await verifyFails([victim, '--type', 'slsaprovenance1', ...keylessPolicy()], /SUBJECT_MISMATCH: statement is about sha256:[0-9a-f]{64}, not the image sha256:/);

    // Rewrite the statement to name the victim: the signature no longer matches.
    const bundle = JSON.parse(Buffer.from(copied.data).toString());
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    statement.subject[0].digest.sha256 = victim.split('@sha256:')[1];
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const victim2 = await pushTestImage('victim2');
    statement.subject[0].digest.sha256 = victim2.split('@sha256:')[1];
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await attachReferrer(victim2, { artifactType: BUNDLE_V03_MEDIA_TYPE, layerMediaType: BUNDLE_V03_MEDIA_TYPE, data: Buffer.from(JSON.stringify(bundle)), annotations });
    await verifyFails([victim2, '--type', 'slsaprovenance1', ...keylessPolicy()], /SIGNATURE_INVALID: envelope signature does not match its payload/);
    expect(await listReferrers(victim2)).toHaveLength(1);
  });

  test('usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [[keyless.image], /give --certificate-identity or --certificate-identity-regexp/],
      [[keyless.image, '--trusted-root', stack.trustedRootPath, '--certificate-oidc-issuer', stack.issuerUrl], /give --certificate-identity or --certificate-identity-regexp/],
      [[keyless.image, '--type', 'sbom', ...keylessPolicy()], /unknown attestation type "sbom"/],
      [[keyless.image, '--key', keySigned.publicKeyPath, '--certificate-identity', 'x'], /--certificate-identity apply to keyless bundles/],
      [[keyless.image, ...keylessPolicy(), '--certificate-identity-regexp', 'x'], /not both/],
      [[keyless.image, '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', 'x', '--trusted-root', stack.trustedRootPath], /regexp "\(" is invalid/],
      [['--manifest', 'x.json', keyless.image], /--manifest verifies a whole release/],
    ];
    for (const [args, message] of cases) {
      await expect(run(args, context().ctx)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(message) });
    }
    await expect(run([keyless.image, ...keylessPolicy().slice(0, 4), '--trusted-root', join(work, 'absent.json')], context().ctx)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('absent.json'),
    });
  });
});

describe('--manifest', () => {
  test.each([
    ['{}', 'VERIFICATION_FAILED', /release\.json: \/: must have required property 'schemaVersion'/],
    ['[]', 'INVALID_INPUT', /release manifest \S+bad\.json is not a JSON object/],
    [JSON.stringify({ schemaVersion: 1, images: [] }), 'VERIFICATION_FAILED', /release\.json: \/: must have required property 'collection'/],
    ['{"schemaVersion": 1, "images": [{"name": "app"', 'INVALID_INPUT', /release manifest \S+bad\.json is not JSON/],
  ])('a release.json that is not one (%s) is refused naming the file and the field', async (text, code, message) => {
    const path = join(work, 'release', 'bad.json');
    await writeFile(path, text);
    const e = await run(['--manifest', path, ...keylessPolicy()], context().ctx).then(
      () => undefined,
      (x: unknown) => x as { code: string; message: string; details?: string[] },
    );
    expect(e?.code).toBe(code);
    expect([e?.message, ...(e?.details ?? [])].join('\n')).toMatch(message);
  });
});
