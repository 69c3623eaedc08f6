/**
 * A second, independent Sigstore bundle verifier built on node:crypto alone (no
 * sigstore-js code): certificate chain to the trusted root's CA, SAN and OIDC
 * issuer, DSSE PAE signature with the leaf key, Rekor entry body against the
 * envelope, signed entry timestamp over the canonical entry, Merkle inclusion
 * proof and signed checkpoint, integrated time within the certificate's
 * validity, and the statement's subject digest. Used to show the bundles are
 * not merely self-consistent with the library that made them.
 */
import { createHash, createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';

// biome-ignore lint/suspicious/noExplicitAny: bundles are walked as untyped JSON, field by field
type Json = Record<string, any>;
const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const b64 = (s: string) => Buffer.from(s, 'base64');

export function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/** The value of a Fulcio extension (OID 1.3.6.1.4.1.57264.1.N, DER UTF8String inside an OCTET STRING). */
function fulcioExtension(certDer: Buffer, n: number): string | undefined {
  const oid = Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, n]);
  const at = certDer.indexOf(oid);
  if (at < 0) return undefined;
  let i = at + oid.length;
  if (certDer[i] === 0x01) i += 3; // optional `critical` BOOLEAN
  if (certDer[i] !== 0x04) return undefined;
  const octetLen = certDer[i + 1]!;
  const inner = certDer.subarray(i + 2, i + 2 + octetLen);
  if (inner[0] !== 0x0c) return undefined;
  return inner.subarray(2, 2 + inner[1]!).toString('utf8');
}

/** RFC 6962 / RFC 9162 inclusion proof: recompute the root from the leaf and its path. */
function rootFromInclusionProof(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('inclusion proof longer than the tree');
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn !== 0) throw new Error('inclusion proof shorter than the tree');
  return r;
}

/** JSON with sorted keys and no whitespace (what Rekor signs for the SET). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Json)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Json)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const spkiKey = (rawBase64: string): KeyObject => createPublicKey({ key: b64(rawBase64), format: 'der', type: 'spki' });

export interface IndependentResult {
  identity?: string;
  issuer?: string;
  predicateType: string;
  integratedTime?: number;
}

export function verifyKeylessIndependently(
  bundle: Json,
  trustedRoot: Json,
  expect: { identity: string; issuer: string; digest: string },
): IndependentResult {
  if (bundle.mediaType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') throw new Error(`media type ${bundle.mediaType}`);
  const env = bundle.dsseEnvelope;
  const leafDer = b64(bundle.verificationMaterial.certificate.rawBytes);
  const leaf = new X509Certificate(leafDer);

  // 1. Chain: leaf <- CA chain of the trusted root, ending in a self-signed root.
  const chainOk = (trustedRoot.certificateAuthorities as Json[]).some((ca) => {
    const chain = (ca.certChain.certificates as Json[]).map((c) => new X509Certificate(b64(c.rawBytes)));
    let child = leaf;
    for (const parent of chain) {
      if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
      child = parent;
    }
    return child.verify(child.publicKey);
  });
  if (!chainOk) throw new Error('certificate does not chain to the trusted root');

  // 2. Identity and issuer.
  const san = leaf.subjectAltName?.replace(/^URI:/, '');
  if (san !== expect.identity) throw new Error(`SAN ${san} != ${expect.identity}`);
  const issuer = fulcioExtension(leafDer, 8);
  if (issuer !== expect.issuer) throw new Error(`issuer ${issuer} != ${expect.issuer}`);

  // 3. DSSE signature with the leaf key.
  const payload = b64(env.payload);
  const sig = b64(env.signatures[0].sig);
  if (!verify('sha256', pae(env.payloadType, payload), leaf.publicKey, sig)) throw new Error('DSSE signature invalid');

  // 4. Rekor: entry body matches the envelope, SET, inclusion proof, checkpoint.
  const entry = bundle.verificationMaterial.tlogEntries[0];
  const body = JSON.parse(b64(entry.canonicalizedBody).toString());
  if (body.kind !== 'dsse') throw new Error(`tlog kind ${body.kind}`);
  if (body.spec.payloadHash.value !== sha256(payload).toString('hex')) throw new Error('tlog payload hash differs');
  if (body.spec.signatures[0].signature !== env.signatures[0].sig) throw new Error('tlog signature differs');
  const certInLog = b64(body.spec.signatures[0].verifier).toString();
  if (!new X509Certificate(certInLog).raw.equals(leafDer)) throw new Error('tlog verifier is another certificate');
  const log = (trustedRoot.tlogs as Json[]).find((t) => t.logId.keyId === entry.logId.keyId);
  if (!log) throw new Error('tlog entry from an unknown log');
  const logKey = spkiKey(log.publicKey.rawBytes);
  const set = canonicalJson({
    body: entry.canonicalizedBody,
    integratedTime: Number(entry.integratedTime),
    logID: b64(entry.logId.keyId).toString('hex'),
    logIndex: Number(entry.logIndex),
  });
  if (!verify('sha256', Buffer.from(set), logKey, b64(entry.inclusionPromise.signedEntryTimestamp))) throw new Error('SET invalid');
  const proof = entry.inclusionProof;
  const leafHash = sha256(Buffer.from([0]), b64(entry.canonicalizedBody));
  const root = rootFromInclusionProof(Number(proof.logIndex), Number(proof.treeSize), leafHash, (proof.hashes as string[]).map(b64));
  if (!root.equals(b64(proof.rootHash))) throw new Error('inclusion proof does not reach the root hash');
  const [note, sigLine] = (proof.checkpoint.envelope as string).split('\n\n');
  const noteLines = note!.split('\n');
  if (noteLines[1] !== String(proof.treeSize) || noteLines[2] !== root.toString('base64')) throw new Error('checkpoint is for another tree');
  const noteSig = b64(sigLine!.trim().split(' ').pop()!);
  if (!noteSig.subarray(0, 4).equals(b64(entry.logId.keyId).subarray(0, 4))) throw new Error('checkpoint signed by another key');
  if (!verify('sha256', Buffer.from(`${note}\n`), logKey, noteSig.subarray(4))) throw new Error('checkpoint signature invalid');

  // 5. Time: the log vouches the signature existed while the certificate was valid.
  const t = Number(entry.integratedTime) * 1000;
  if (t < Date.parse(leaf.validFrom) || t > Date.parse(leaf.validTo)) throw new Error('integrated time outside certificate validity');

  // 6. The statement is about the image.
  const statement = JSON.parse(payload.toString());
  if (!statement.subject.some((s: Json) => `sha256:${s.digest?.sha256}` === expect.digest)) throw new Error('subject digest differs');
  return { identity: san, issuer, predicateType: statement.predicateType, integratedTime: Number(entry.integratedTime) };
}

export function verifyKeySignedIndependently(bundle: Json, publicKeyPem: string, digest: string): string {
  const key = createPublicKey(publicKeyPem);
  const fingerprint = `sha256:${createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex')}`;
  if (bundle.verificationMaterial.publicKey?.hint !== fingerprint) throw new Error('bundle names another key');
  const env = bundle.dsseEnvelope;
  const payload = b64(env.payload);
  if (!verify('sha256', pae(env.payloadType, payload), key, b64(env.signatures[0].sig))) throw new Error('DSSE signature invalid');
  const statement = JSON.parse(payload.toString());
  if (!statement.subject.some((s: Json) => `sha256:${s.digest?.sha256}` === digest)) throw new Error('subject digest differs');
  return statement.predicateType;
}
