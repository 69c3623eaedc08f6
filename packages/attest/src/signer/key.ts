/**
 * Signing with a long-lived ECDSA P-256 key: the offline default when no OIDC
 * token is available. Not keyless: no certificate binds an identity, no
 * transparency log witnesses the signature; the bundle names the key by its
 * fingerprint (sha256 of the DER SubjectPublicKeyInfo) as the public-key hint.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReleaseError, sha256Digest } from '@nixrel/core';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { IN_TOTO_PAYLOAD_TYPE } from '../constants.js';
import type { Statement } from '../statement.js';
import type { SignedBundle, Signer } from './types.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** `sha256:<hex>` of the DER SubjectPublicKeyInfo. */
  fingerprint: string;
  /** Where the private key was read from or written to. */
  path: string;
  /** Where the public key lives next to it (written alongside a created key). */
  publicKeyPath?: string;
  created: boolean;
}

export const DEFAULT_KEY_FILE = 'signing-key.pem';
export const DEFAULT_PUBLIC_KEY_FILE = 'signing-key.pub';

export function keyFingerprint(publicKey: KeyObject): string {
  return sha256Digest(publicKey.export({ format: 'der', type: 'spki' }));
}

function assertP256(key: KeyObject, source: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ReleaseError('INVALID_INPUT', `key ${source} is not an ECDSA P-256 key`);
  }
}

function describe(privateKey: KeyObject, path: string, created: boolean, publicKeyPath?: string): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: keyFingerprint(publicKey),
    path,
    ...(publicKeyPath ? { publicKeyPath } : {}),
    created,
  };
}

/**
 * Reads a PEM key file and parses it with `parse`, checking it is P-256.
 * Errors name the file (`what` says which key), never its content.
 */
async function readPemKey(path: string, what: string, parse: (pem: string) => KeyObject, expected: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let key: KeyObject;
  try {
    key = parse(pem);
  } catch {
    throw new ReleaseError('INVALID_INPUT', `${what} ${path} is not ${expected}`);
  }
  assertP256(key, path);
  return key;
}

/** Reads a PEM private key (PKCS#8 or SEC1). */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  return describe(await readPemKey(path, 'signing key', createPrivateKey, 'a PEM private key'), path, false);
}

/** The key pair in `dir` (signing-key.pem, mode 0600, and signing-key.pub), created on first use. */
export async function loadOrCreateSigningKey(dir: string): Promise<SigningKey> {
  const path = join(dir, DEFAULT_KEY_FILE);
  const publicKeyPath = join(dir, DEFAULT_PUBLIC_KEY_FILE);
  try {
    const key = await loadSigningKey(path);
    return { ...key, publicKeyPath };
  } catch (e) {
    if (!(e instanceof ReleaseError && e.code === 'NOT_FOUND')) throw e;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = describe(privateKey, path, true, publicKeyPath);
  // `wx`: never overwrite a key another process created meanwhile.
  await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  await writeFile(publicKeyPath, key.publicKeyPem, { mode: 0o644 });
  return key;
}

/** A public key (SPKI PEM) or the public half of a private key PEM. */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  return readPemKey(path, 'public key', createPublicKey, 'a PEM public or private key');
}

export function createKeySigner(key: SigningKey): Signer {
  const builder = new DSSEBundleBuilder({
    signer: {
      sign: async (data: Buffer) => ({
        signature: sign('sha256', data, key.privateKey),
        key: { $case: 'publicKey' as const, publicKey: key.publicKeyPem, hint: key.fingerprint },
      }),
    },
    witnesses: [],
  });
  return {
    mode: 'key',
    label: `key (NOT keyless: local key ${key.fingerprint}, no certificate, no transparency log)`,
    async sign(statement: Statement): Promise<SignedBundle> {
      const bundle = bundleToJSON(await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE }));
      return { bundle, bytes: Buffer.from(JSON.stringify(bundle)) };
    },
  };
}
