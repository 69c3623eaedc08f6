/**
 * A Sigstore deployment on loopback for tests: @sigstore/mock's Fulcio, Rekor
 * (v1 API) and TSA behind one node:http server, plus a local OIDC issuer
 * (oidc-issuer.ts). The real sigstore-js client signs against it and
 * @sigstore/verify verifies against `trustedRoot`, built from the stack's keys.
 *
 * Where the mock is laxer than the real services, the stack makes up for it:
 * - Fulcio: the mock only decodes the JWT. Here the token is verified first
 *   (signature, issuer, audience, expiry) and so is the proof of possession;
 *   GitHub-like tokens get Fulcio's GitHub SAN (`https://github.com/<job_workflow_ref>`).
 * - Rekor: the mock logs the proposed dsse entry verbatim, while real Rekor
 *   stores a canonicalised body (envelope hash, payload hash, signatures); and
 *   its one-leaf inclusion proof (index 0, no hashes) loses its zero values in
 *   proto3 JSON. Entries are canonicalised and given a two-leaf proof with a
 *   re-signed checkpoint, so verifiers walk a real Merkle path.
 * - Faults: `fail(service, fault)` makes a service answer with an HTTP error or
 *   hang, for negative tests.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify as verifySignature,
} from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mock from '@sigstore/mock';
import { createOidcIssuer, type MintTokenOptions, type OidcIssuerOptions } from './oidc-issuer.js';

export { DEFAULT_WORKFLOW_IDENTITY, type MintTokenOptions } from './oidc-issuer.js';

export type SigstoreService = 'fulcio' | 'rekor' | 'tsa';
/** An HTTP error answer, or a request that never gets one. */
export type ServiceFault = { status: number; message?: string } | 'hang';

export interface SigstoreStack {
  /** Base URLs as sigstore-js expects them (it appends the API paths). */
  fulcioUrl: string;
  rekorUrl: string;
  tsaUrl: string;
  /** OIDC issuer URL: the `iss` of minted tokens and the issuer extension of certificates. */
  issuerUrl: string;
  /** TrustedRoot (JSON form, as sigstore's trusted_root.json) for Fulcio, Rekor, CT log and TSA. */
  trustedRoot: Record<string, unknown>;
  trustedRootPath: string;
  /** GitHub Actions token endpoint emulation: set as ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN. */
  actionsTokenRequest: { url: string; token: string };
  /** How many tokens the Actions endpoint has handed out. */
  actionsTokensIssued(): number;
  mintToken(opts?: MintTokenOptions): Promise<string>;
  /** Makes a service fail until `fail(service, null)`. */
  fail(service: SigstoreService, fault: ServiceFault | null): void;
  /** Requests received per service (counted even when a fault answered them). */
  requests: Record<SigstoreService, number>;
  stop(): Promise<void>;
}

type HandlerResult = { statusCode: number; response: string | ArrayBufferView; contentType?: string };
type Handler = { path: string; fn: (body: string) => Promise<HandlerResult> };

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const ecKeyPair = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const b64 = (data: ArrayBufferView) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
const jsonError = (statusCode: number, message: string): HandlerResult => ({
  statusCode,
  response: JSON.stringify({ code: statusCode, message }),
  contentType: 'application/json',
});

/** The dsse v0.0.1 body real Rekor stores for a proposed entry (rekor pkg/types/dsse/v0.0.1). */
function canonicalDsseEntry(proposed: Record<string, unknown>): unknown {
  const spec = proposed.spec as { proposedContent?: { envelope: string; verifiers: string[] } } | undefined;
  if (proposed.kind !== 'dsse' || !spec?.proposedContent) return proposed;
  const { envelope, verifiers } = spec.proposedContent;
  const parsed = JSON.parse(envelope) as { payload: string; signatures: { sig: string }[] };
  const signatures = parsed.signatures
    .map((s) => ({ signature: s.sig, verifier: verifiers[0] }))
    .sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope).toString('hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64')).toString('hex') },
      signatures,
    },
  };
}

interface RekorEntry {
  body: string;
  logID: string;
  verification: {
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string };
  };
}

/** Re-issues the entry's inclusion proof for a two-leaf tree (a padding leaf, then the entry). */
function twoLeafInclusionProof(entries: Record<string, RekorEntry>, logKey: KeyObject, logName: string) {
  const leafHash = (data: Uint8Array) => sha256(Buffer.concat([Buffer.from([0]), data]));
  for (const entry of Object.values(entries)) {
    const padding = leafHash(Buffer.from('padding-leaf'));
    const root = sha256(Buffer.concat([Buffer.from([1]), padding, leafHash(Buffer.from(entry.body, 'base64'))]));
    const [origin] = entry.verification.inclusionProof.checkpoint.split('\n');
    const note = `${origin}\n2\n${root.toString('base64')}\n`;
    const keyHint = Buffer.from(entry.logID, 'hex').subarray(0, 4);
    const signature = Buffer.concat([keyHint, signWith(logKey, note)]).toString('base64');
    entry.verification.inclusionProof = {
      logIndex: 1,
      treeSize: 2,
      rootHash: root.toString('hex'),
      hashes: [padding.toString('hex')],
      checkpoint: `${note}\n\u2014 ${logName} ${signature}\n`,
    };
  }
  return entries;
}

function signWith(key: KeyObject, data: string): Buffer {
  return sign('sha256', Buffer.from(data), key);
}

/** True unless the response's GeneralizedTime carries a fraction of other than three digits. */
function wellFormedGenTime(der: Buffer): boolean {
  for (let i = der.indexOf(0x18); i >= 0 && i < der.length - 2; i = der.indexOf(0x18, i + 1)) {
    const text = der.subarray(i + 2, i + 2 + (der[i + 1] ?? 0)).toString('latin1');
    const m = /^\d{14}(\.\d+)?Z$/.exec(text);
    if (m) return m[1] === undefined || m[1].length === 4;
  }
  return true;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSigstoreStack(opts: { host?: string } & OidcIssuerOptions = {}): Promise<SigstoreStack> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const issuerUrl = `${url}/oidc`;
  const oidc = await createOidcIssuer(issuerUrl, opts);

  // One key per service, as in a real deployment.
  const ctlog = await mock.initializeCTLog(ecKeyPair());
  const ca = await mock.initializeCA(ecKeyPair(), ctlog);
  const tlogKeys = ecKeyPair();
  const tlog = await mock.initializeTLog(url, tlogKeys);
  const tsa = await mock.initializeTSA(ecKeyPair());
  // The SAN comes from a claim the stack adds after checking the token (see fulcioRoute).
  const fulcio = mock.fulcioHandler(ca, { subjectClaim: 'x_fulcio_san' }) as Handler;
  const rekor = mock.rekorHandler(tlog) as Handler;
  const timestamp = mock.tsaHandler(tsa) as Handler;

  const fulcioRoute = async (body: string): Promise<HandlerResult> => {
    let request: {
      credentials?: { oidcIdentityToken?: string };
      publicKeyRequest?: { publicKey?: { content?: string }; proofOfPossession?: string };
    };
    try {
      request = JSON.parse(body);
    } catch {
      return jsonError(400, 'request is not JSON');
    }
    const token = request.credentials?.oidcIdentityToken ?? '';
    let claims: Record<string, unknown>;
    try {
      claims = await oidc.verifyToken(token);
    } catch (e) {
      return jsonError(401, `identity token rejected: ${(e as Error).message}`);
    }
    // Proof of possession: the `sub` (or verified email) signed by the key being certified.
    const challengeSubject = String(claims.email ?? claims.sub ?? '');
    const pem = request.publicKeyRequest?.publicKey?.content ?? '';
    const proof = Buffer.from(request.publicKeyRequest?.proofOfPossession ?? '', 'base64');
    let possessed = false;
    try {
      possessed = verifySignature('sha256', Buffer.from(challengeSubject), createPublicKey(pem), proof);
    } catch {
      possessed = false;
    }
    if (!possessed) return jsonError(400, 'proof of possession of the public key failed');
    const san = claims.job_workflow_ref ? `https://github.com/${claims.job_workflow_ref}` : challengeSubject;
    // The mock decodes the token without checking it; hand it the checked claims plus the SAN.
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims, x_fulcio_san: san })).toString('base64url');
    request.credentials = { oidcIdentityToken: `${header}.${payload}.${signature}` };
    return fulcio.fn(JSON.stringify(request));
  };

  const rekorRoute = async (body: string): Promise<HandlerResult> => {
    let proposed: Record<string, unknown>;
    try {
      proposed = JSON.parse(body);
    } catch {
      return jsonError(400, 'proposed entry is not JSON');
    }
    const result = await rekor.fn(JSON.stringify(canonicalDsseEntry(proposed)));
    if (result.statusCode !== 201) return result;
    const entries = JSON.parse(String(result.response)) as Record<string, RekorEntry>;
    return { ...result, response: JSON.stringify(twoLeafInclusionProof(entries, tlogKeys.privateKey, new URL(url).host)) };
  };

  // The mock TSA encodes genTime with asn1js, which drops trailing zeros of the
  // milliseconds (".12Z"); @sigstore/core accepts only none or three digits. A
  // real TSA would not send that, so ask again until the time is well formed.
  const timestampRoute = async (body: string): Promise<HandlerResult> => {
    for (let attempt = 0; ; attempt++) {
      const result = await timestamp.fn(body);
      const der = Buffer.from(result.response as Uint8Array);
      if (result.statusCode >= 300 || wellFormedGenTime(der) || attempt === 20) return result;
      await new Promise((r) => setTimeout(r, 1));
    }
  };

  const routes: Record<string, { service: SigstoreService; fn: (body: string) => Promise<HandlerResult> }> = {
    [fulcio.path]: { service: 'fulcio', fn: fulcioRoute },
    [rekor.path]: { service: 'rekor', fn: rekorRoute },
    [timestamp.path]: { service: 'tsa', fn: timestampRoute },
  };
  const faults = new Map<SigstoreService, ServiceFault>();
  const requests: Record<SigstoreService, number> = { fulcio: 0, rekor: 0, tsa: 0 };

  const send = (res: ServerResponse, r: HandlerResult) => {
    // No keep-alive: sigstore-js reusing a socket the server is closing got ECONNRESET from Fulcio.
    res.writeHead(r.statusCode, { 'Content-Type': r.contentType ?? 'text/plain', Connection: 'close' }).end(r.response);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (oidc.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'POST' ? routes[path] : undefined;
    if (!route) {
      send(res, jsonError(404, `no route for ${req.method} ${path}`));
      return;
    }
    requests[route.service]++;
    const fault = faults.get(route.service);
    if (fault === 'hang') return; // answered never; stop() closes the socket
    readBody(req)
      .then((body) => (fault ? jsonError(fault.status, fault.message ?? `${route.service} failure`) : route.fn(body)))
      .then(
        (r) => send(res, r),
        (e: Error) => send(res, jsonError(500, e.message)),
      );
  });

  // TrustedRoot in its JSON form (what `cosign trusted-root create` or TUF would give).
  const validFor = { start: new Date(Date.now() - 3600_000).toISOString() };
  const transparencyLog = (publicKey: ArrayBufferView) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
    logId: { keyId: b64(sha256(new Uint8Array(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength))) },
  });
  const authority = (certificates: ArrayBufferView[]) => ({
    subject: { organization: 'local', commonName: 'local sigstore' },
    uri: url,
    certChain: { certificates: certificates.map((c) => ({ rawBytes: b64(c) })) },
    validFor,
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [transparencyLog(tlog.publicKey)],
    certificateAuthorities: [authority([ca.rootCertificate])],
    ctlogs: [transparencyLog(ctlog.publicKey)],
    timestampAuthorities: [authority([tsa.intCertificate, tsa.rootCertificate])],
  };
  const dir = await mkdtemp(join(tmpdir(), 'sigstore-stack-'));
  const trustedRootPath = join(dir, 'trusted_root.json');
  await writeFile(trustedRootPath, `${JSON.stringify(trustedRoot, null, 2)}\n`);

  return {
    fulcioUrl: url,
    rekorUrl: url,
    tsaUrl: url,
    issuerUrl,
    trustedRoot,
    trustedRootPath,
    actionsTokenRequest: oidc.actionsTokenRequest,
    actionsTokensIssued: oidc.actionsTokensIssued,
    mintToken: oidc.mintToken,
    fail(service, fault) {
      if (fault === null) faults.delete(service);
      else faults.set(service, fault);
    },
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
