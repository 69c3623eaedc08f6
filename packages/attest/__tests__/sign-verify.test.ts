import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COSIGN_SIGN_PREDICATE, CYCLONEDX_BOM, SLSA_PROVENANCE_V1 } from '@nixrel/core';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createKeylessSigner,
  createKeySigner,
  findIdentityToken,
  imageSignatureStatement,
  keylessTrust,
  keyTrust,
  loadOrCreateSigningKey,
  loadPublicKey,
  makeStatement,
  type Signer,
  sbomStatement,
  type VerificationFailure,
  verifyBundle,
  verifyImage,
} from '../src/index.js';
import { verifyKeylessIndependently, verifyKeySignedIndependently } from './support/independent-verifier.js';

const IMAGE = { repository: '127.0.0.1:5000/acme/app', digest: `sha256:${'a'.repeat(64)}` };
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
const BOM = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] };

let stack: SigstoreStack;
let other: SigstoreStack;
let signer: Signer;
let policy: { certificateIdentity: string; certificateOidcIssuer: string };

beforeAll(async () => {
  [stack, other] = await Promise.all([startSigstoreStack(), startSigstoreStack()]);
  const token = await findIdentityToken({ token: await stack.mintToken(), env: {} });
  signer = createKeylessSigner({ identityToken: token!, fulcioUrl: stack.fulcioUrl, rekorUrl: stack.rekorUrl, tsaUrl: stack.tsaUrl, retries: 0 });
  policy = { certificateIdentity: DEFAULT_WORKFLOW_IDENTITY, certificateOidcIssuer: stack.issuerUrl };
});
afterAll(async () => {
  await Promise.all([stack?.stop(), other?.stop()]);
});

const failure = (fn: () => unknown): VerificationFailure => {
  try {
    fn();
  } catch (e) {
    return e as VerificationFailure;
  }
  throw new Error('verification unexpectedly passed');
};

describe('keyless', () => {
  test('signs the three statements and verifies them, with sigstore-js and independently', async () => {
    const statements = [
      imageSignatureStatement(IMAGE),
      makeStatement(IMAGE, SLSA_PROVENANCE_V1, { buildDefinition: {}, runDetails: {} }),
      sbomStatement(IMAGE, BOM),
    ];
    for (const statement of statements) {
      const signed = await signer.sign(statement);
      expect(signed.bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(signed.bundle.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
      expect(signed.bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
      const v = verifyBundle(signed.bytes, { trust: keylessTrust(stack.trustedRoot), policy, imageDigest: IMAGE.digest, predicateType: statement.predicateType });
      expect(v).toMatchObject({ signerMode: 'keyless', identity: DEFAULT_WORKFLOW_IDENTITY, issuer: stack.issuerUrl, rekorUrl: stack.rekorUrl });
      const independent = verifyKeylessIndependently(JSON.parse(Buffer.from(signed.bytes).toString()), stack.trustedRoot, {
        identity: DEFAULT_WORKFLOW_IDENTITY,
        issuer: stack.issuerUrl,
        digest: IMAGE.digest,
      });
      expect(independent.predicateType).toBe(statement.predicateType);
    }
  });

  test('tokens that expire within seconds: each certificate request gets a fresh one from the Actions endpoint', async () => {
    const shortLived = await startSigstoreStack({ actionsTokenLifetime: 4 });
    try {
      const env = { ACTIONS_ID_TOKEN_REQUEST_URL: shortLived.actionsTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: shortLived.actionsTokenRequest.token };
      const first = await findIdentityToken({ env });
      const renewing = createKeylessSigner({ identityToken: first!, fulcioUrl: shortLived.fulcioUrl, rekorUrl: shortLived.rekorUrl, tsaUrl: shortLived.tsaUrl, retries: 0 });
      const statement = imageSignatureStatement(IMAGE);
      const before = await renewing.sign(statement);
      // The first token has expired by now: Fulcio would refuse it.
      await new Promise((r) => setTimeout(r, 4_500));
      expect(first!.expiresAt!.getTime()).toBeLessThan(Date.now());
      const after = await renewing.sign(statement);
      const check = { trust: keylessTrust(shortLived.trustedRoot), policy: { ...policy, certificateOidcIssuer: shortLived.issuerUrl }, imageDigest: IMAGE.digest, predicateType: statement.predicateType };
      expect(verifyBundle(before.bytes, check).identity).toBe(DEFAULT_WORKFLOW_IDENTITY);
      expect(verifyBundle(after.bytes, check).identity).toBe(DEFAULT_WORKFLOW_IDENTITY);
      // One token found up front, then one per certificate request.
      expect(shortLived.actionsTokensIssued()).toBe(3);
    } finally {
      await shortLived.stop();
    }
  });

  test('the cosign signature statement has cosign v3 shape: digest subject, empty predicate', () => {
    expect(imageSignatureStatement(IMAGE)).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: 'a'.repeat(64) }, annotations: {} }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    });
  });

  describe('rejections', () => {
    let bytes: Uint8Array;
    const check = (over: Partial<Parameters<typeof verifyBundle>[1]> = {}) => ({
      trust: keylessTrust(stack.trustedRoot),
      policy,
      imageDigest: IMAGE.digest,
      predicateType: SLSA_PROVENANCE_V1,
      ...over,
    });
    beforeAll(async () => {
      bytes = (await signer.sign(makeStatement(IMAGE, SLSA_PROVENANCE_V1, { buildDefinition: {}, runDetails: {} }))).bytes;
    });

    test('tampered payload', () => {
      const bundle = JSON.parse(Buffer.from(bytes).toString());
      const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
      statement.subject[0].digest.sha256 = 'b'.repeat(64);
      bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      const e = failure(() => verifyBundle(bundle, check({ imageDigest: OTHER_DIGEST })));
      expect(e.reason).toBe('SIGNATURE_INVALID');
      expect(e.code).toBe('VERIFICATION_FAILED');
      expect(e.message).toMatch(/altered after signing/);
      expect(() => verifyKeylessIndependently(bundle, stack.trustedRoot, { identity: DEFAULT_WORKFLOW_IDENTITY, issuer: stack.issuerUrl, digest: OTHER_DIGEST })).toThrow(/signature invalid/);
    });

    test('wrong identity', () => {
      const e = failure(() => verifyBundle(bytes, check({ policy: { ...policy, certificateIdentity: 'https://github.com/evil/repo/.github/workflows/attest.yml@refs/heads/main' } })));
      expect(e.reason).toBe('IDENTITY_MISMATCH');
      expect(e.message).toContain(DEFAULT_WORKFLOW_IDENTITY);
    });

    test('an unanchored prefix does not match more than itself, exact or as a regexp', () => {
      const prefix = 'https://github.com/wellmaintained/';
      expect(failure(() => verifyBundle(bytes, check({ policy: { ...policy, certificateIdentity: prefix } }))).reason).toBe('IDENTITY_MISMATCH');
      const asRegexp = { certificateIdentityRegexp: 'https://github\\.com/wellmaintained/', certificateOidcIssuer: stack.issuerUrl };
      expect(failure(() => verifyBundle(bytes, check({ policy: asRegexp }))).reason).toBe('IDENTITY_MISMATCH');
      // A regexp that spans the whole identity passes.
      const whole = { certificateIdentityRegexp: 'https://github\\.com/wellmaintained/packages/\\.github/workflows/[a-z]+\\.yml@refs/heads/main', certificateOidcIssuer: stack.issuerUrl };
      expect(verifyBundle(bytes, check({ policy: whole })).identity).toBe(DEFAULT_WORKFLOW_IDENTITY);
    });

    test('wrong issuer', () => {
      const e = failure(() => verifyBundle(bytes, check({ policy: { ...policy, certificateOidcIssuer: 'https://token.actions.githubusercontent.com' } })));
      expect(e.reason).toBe('ISSUER_MISMATCH');
      expect(e.message).toContain(stack.issuerUrl);
    });

    test('a foreign trust root', () => {
      const e = failure(() => verifyBundle(bytes, check({ trust: keylessTrust(other.trustedRoot) })));
      expect(e.reason).toBe('CERTIFICATE_UNTRUSTED');
    });

    test('an attestation of another image (subject mismatch)', () => {
      const e = failure(() => verifyBundle(bytes, check({ imageDigest: OTHER_DIGEST })));
      expect(e.reason).toBe('SUBJECT_MISMATCH');
      expect(e.message).toContain(OTHER_DIGEST);
    });

    test('another predicate type than the one asked for', () => {
      expect(failure(() => verifyBundle(bytes, check({ predicateType: CYCLONEDX_BOM }))).reason).toBe('PREDICATE_TYPE_MISMATCH');
    });

    test('a tlog entry that is not for this envelope', async () => {
      const otherBundle = JSON.parse(Buffer.from((await signer.sign(sbomStatement(IMAGE, BOM))).bytes).toString());
      const bundle = JSON.parse(Buffer.from(bytes).toString());
      bundle.verificationMaterial.tlogEntries = otherBundle.verificationMaterial.tlogEntries;
      expect(failure(() => verifyBundle(bundle, check())).reason).toBe('TLOG_INVALID');
    });

    test('a policy without identity or issuer is refused, not waved through', () => {
      const e = failure(() => verifyBundle(bytes, check({ policy: { certificateOidcIssuer: stack.issuerUrl } })));
      expect(e.reason).toBe('POLICY_INVALID');
      expect(e.code).toBe('USAGE');
      expect(failure(() => verifyBundle(bytes, check({ policy: { certificateIdentity: DEFAULT_WORKFLOW_IDENTITY } }))).reason).toBe('POLICY_INVALID');
    });

    test('a key-signed bundle where keyless is required', async () => {
      const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const keySigned = await createKeySigner({
        privateKey: key.privateKey,
        publicKey: key.publicKey,
        publicKeyPem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        fingerprint: 'sha256:x',
        path: '-',
        created: false,
      }).sign(makeStatement(IMAGE, SLSA_PROVENANCE_V1, {}));
      expect(failure(() => verifyBundle(keySigned.bytes, check())).reason).toBe('SIGNER_MODE_MISMATCH');
    });

    test('verifyImage: a missing attestation type is a failure of its own', () => {
      const result = verifyImage({
        imageDigest: IMAGE.digest,
        bundles: [{ source: 'one', data: bytes }],
        predicateTypes: [SLSA_PROVENANCE_V1, CYCLONEDX_BOM],
        trust: keylessTrust(stack.trustedRoot),
        policy,
      });
      expect(result.ok).toBe(false);
      expect(result.verified.map((v) => v.predicateType)).toEqual([SLSA_PROVENANCE_V1]);
      expect(result.failures).toEqual([expect.objectContaining({ predicateType: CYCLONEDX_BOM, reason: 'ATTESTATION_MISSING' })]);
    });
  });
});

describe('key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attest-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('creates the key pair on first use (private key 0600), reuses it after', async () => {
    const created = await loadOrCreateSigningKey(join(dir, 'keys'));
    expect(created.created).toBe(true);
    expect((await stat(created.path)).mode & 0o777).toBe(0o600);
    expect(created.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await loadOrCreateSigningKey(join(dir, 'keys'));
    expect(again.created).toBe(false);
    expect(again.fingerprint).toBe(created.fingerprint);
  });

  test('signs, labels itself as not keyless, verifies with the public key only', async () => {
    const key = await loadOrCreateSigningKey(join(dir, 'keys'));
    const keySigner = createKeySigner(key);
    expect(keySigner.mode).toBe('key');
    expect(keySigner.label).toMatch(/NOT keyless/);
    const signed = await keySigner.sign(sbomStatement(IMAGE, BOM));
    expect(signed.bundle.verificationMaterial.publicKey?.hint).toBe(key.fingerprint);
    expect(signed.bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    const publicKey = await loadPublicKey(key.publicKeyPath!);
    const v = verifyBundle(signed.bytes, { trust: keyTrust(publicKey), policy: {}, imageDigest: IMAGE.digest, predicateType: CYCLONEDX_BOM });
    expect(v).toMatchObject({ signerMode: 'key', keyFingerprint: key.fingerprint });
    expect(verifyKeySignedIndependently(signed.bundle, await readFile(key.publicKeyPath!, 'utf8'), IMAGE.digest)).toBe(CYCLONEDX_BOM);

    const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const wrongKey = failure(() => verifyBundle(signed.bytes, { trust: keyTrust(stranger), policy: {}, imageDigest: IMAGE.digest, predicateType: CYCLONEDX_BOM }));
    expect(wrongKey.reason).toBe('KEY_MISMATCH');

    const tampered = structuredClone(signed.bundle);
    tampered.dsseEnvelope!.payload = Buffer.from(JSON.stringify(makeStatement(IMAGE, CYCLONEDX_BOM, { evil: true }))).toString('base64');
    expect(failure(() => verifyBundle(tampered, { trust: keyTrust(publicKey), policy: {}, imageDigest: IMAGE.digest, predicateType: CYCLONEDX_BOM })).reason).toBe('SIGNATURE_INVALID');

    const keylessPolicyOnKeyBundle = failure(() =>
      verifyBundle(signed.bytes, { trust: keylessTrust(stack.trustedRoot), policy, imageDigest: IMAGE.digest, predicateType: CYCLONEDX_BOM }),
    );
    expect(keylessPolicyOnKeyBundle.reason).toBe('SIGNER_MODE_MISMATCH');
  });

  test('a key file that is not a P-256 private key is refused, naming the file', async () => {
    const { writeFile } = await import('node:fs/promises');
    const bad = join(dir, 'bad.pem');
    await writeFile(bad, 'not a key');
    const { loadSigningKey } = await import('../src/index.js');
    await expect(loadSigningKey(bad)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(bad) });
    await expect(loadSigningKey(join(dir, 'missing.pem'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
