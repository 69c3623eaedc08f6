import { createHash } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReleaseError, type Logger, ReleaseError, registerSecret, sha256Digest, silentLogger } from '@nixrel/core';
import { basicAuth, type Challenge, type Credentials, findCredentials, parseChallenge } from './auth.js';
import { type HttpResponse, header, httpRequest, type RequestBody } from './http.js';
import { withLockFile } from './lock-file.js';
import { type Descriptor, MANIFEST_ACCEPT, OCI_INDEX } from './media-types.js';
import { parseRetryAfter, type RetryPolicy, retryPolicy, TransientError, withRetry } from './retry.js';
import { type BlobState, type ImageStore, keyedMutex, type PutBlobOptions } from './store.js';

export interface RegistryOptions {
  logger?: Logger;
  /** Plain http; default true only for 127.0.0.1, localhost and [::1]. */
  insecure?: boolean;
  authFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Attempts, backoff, waiting budget and timeouts (see retry.ts); the environment's NIXREL_REGISTRY_* settings apply under these. */
  retry?: Partial<RetryPolicy>;
  onProgress?: (p: { layer: string; bytes: number; total: number }) => void;
}

const LOOPBACK = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$/;

/** Registry error bodies are `{errors: [{code, message}]}`; fold them into one line. */
function errorText(res: HttpResponse): string {
  try {
    const json = JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    if (json.errors?.length) return json.errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ');
  } catch {
    // not JSON
  }
  const text = res.body.toString('utf8').trim().slice(0, 200);
  return text ? `HTTP ${res.status}: ${text}` : `HTTP ${res.status}`;
}

interface Req {
  method: string;
  /** Path under the registry root, or an absolute URL (upload locations). */
  path: string | URL;
  scopes: string[];
  what: string;
  headers?: Record<string, string>;
  /** A body, or a function making a fresh one (so a request can be resent after an auth challenge). */
  body?: RequestBody | (() => RequestBody);
  maxResponseBytes?: number;
  onBody?: (chunk: Buffer) => void;
}

/** One registry host: authentication (anonymous, basic, bearer tokens with scopes) and retries. */
export class RegistryClient {
  readonly base: string;
  readonly logger: Logger;
  readonly policy: RetryPolicy;
  private creds: Credentials | undefined | null = null;
  private challenge: Challenge | undefined;
  private tokens = new Map<string, { value: string; expires: number }>();

  constructor(
    readonly host: string,
    readonly opts: RegistryOptions & { repository?: string } = {},
  ) {
    const insecure = opts.insecure ?? LOOPBACK.test(host);
    this.base = `${insecure ? 'http' : 'https'}://${host}`;
    this.logger = opts.logger ?? silentLogger;
    this.policy = retryPolicy(opts.retry, opts.env ?? process.env);
  }

  timeouts(): { idleTimeoutMs: number; deadlineMs: number } {
    return { idleTimeoutMs: this.policy.idleTimeoutMs, deadlineMs: this.policy.deadlineMs };
  }

  private async credentials(): Promise<Credentials | undefined> {
    if (this.creds === null) {
      this.creds = await findCredentials(this.host, this.opts.repository, {
        env: this.opts.env,
        authFile: this.opts.authFile,
        logger: this.logger,
      });
    }
    return this.creds;
  }

  private refused(creds: Credentials | undefined, via: string): ReleaseError {
    return creds
      ? new ReleaseError('AUTH_ERROR', `${via} refused the credentials for user "${creds.username}" (from ${creds.source})`)
      : new ReleaseError(
          'AUTH_ERROR',
          `${via} requires authentication and no credentials were found for ${this.host} (docker config, containers auth.json, REGISTRY_AUTH_FILE${this.host === 'ghcr.io' ? ', GITHUB_TOKEN' : ''})`,
        );
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    if (ch.scheme === 'basic') return creds ? basicAuth(creds) : undefined;
    const wanted = [...new Set(scopes)].sort();
    const key = wanted.join(' ');
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const realm = ch.params.realm;
    if (!realm) throw new ReleaseError('REGISTRY_ERROR', `registry ${this.host} sent a bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of wanted) url.searchParams.append('scope', s);
    const res = await withRetry(
      this.policy,
      `token request to ${url.host}`,
      async () => {
        const r = await httpRequest({ method: 'GET', url, headers: creds ? { Authorization: basicAuth(creds) } : {}, ...this.timeouts() });
        if (r.status >= 500 || r.status === 429) throw new TransientError(`token server ${url.host}: ${errorText(r)}`, parseRetryAfter(r.headers['retry-after']));
        return r;
      },
      this.logger,
    );
    if (res.status === 401 || res.status === 403) throw this.refused(creds, `token server ${url.host}`);
    if (res.status !== 200) throw new ReleaseError('AUTH_ERROR', `token server ${url.host} answered ${errorText(res)}`);
    let json: { token?: string; access_token?: string; expires_in?: number };
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new ReleaseError('AUTH_ERROR', `token server ${url.host} sent a body that is not JSON`, { cause: e });
    }
    const token = json.token ?? json.access_token;
    if (!token) throw new ReleaseError('AUTH_ERROR', `token server ${url.host} sent no token`);
    registerSecret(token);
    // Renew a little early; the spec's default lifetime is 60 s.
    const lifetime = Math.max(10, (json.expires_in ?? 60) - 5) * 1000;
    this.tokens.set(key, { value: token, expires: Date.now() + lifetime });
    return `Bearer ${token}`;
  }

  /** One attempt: sends, answers one auth challenge, maps 5xx/429/dropped connections to TransientError. */
  private async once(req: Req): Promise<HttpResponse> {
    const url = req.path instanceof URL ? req.path : new URL(req.path, this.base);
    const makeBody = () => (typeof req.body === 'function' ? req.body() : req.body);
    let sentAuth = false;
    const send = async () => {
      const auth = await this.authorization(req.scopes);
      sentAuth = auth !== undefined;
      return httpRequest({
        method: req.method,
        url,
        headers: { ...req.headers, ...(auth ? { Authorization: auth } : {}) },
        body: makeBody(),
        maxResponseBytes: req.maxResponseBytes,
        onBody: req.onBody,
        ...this.timeouts(),
      });
    };
    let res = await send();
    if (res.status === 401) {
      const ch = parseChallenge(header(res, 'www-authenticate'));
      if (!ch) throw new ReleaseError('AUTH_ERROR', `registry ${this.host} refused ${req.what} (401) without a usable challenge`);
      const creds = await this.credentials();
      // Basic credentials that were sent and refused will not get better.
      if (sentAuth && ch.scheme === 'basic') throw this.refused(creds, `registry ${this.host}`);
      // A challenge may name the scope it wants; ask for that as well.
      if (ch.params.scope) req = { ...req, scopes: [...req.scopes, ...ch.params.scope.split(' ')] };
      const resendable = typeof req.body === 'function' || req.body === undefined || req.body instanceof Uint8Array;
      this.challenge = ch;
      if (sentAuth) this.tokens.clear();
      if (!resendable) throw new TransientError(`registry ${this.host} asked to authenticate during ${req.what}`);
      res = await send();
      if (res.status === 401) throw this.refused(creds, `registry ${this.host}`);
    }
    if (res.status === 403) {
      throw new ReleaseError('AUTH_ERROR', `registry ${this.host} denied ${req.what}: ${errorText(res)}`);
    }
    if (res.status === 429) throw new TransientError(`${req.what}: rate limited (429)`, parseRetryAfter(res.headers['retry-after']), 'REGISTRY_ERROR');
    if (res.status >= 500) throw new TransientError(`${req.what}: ${errorText(res)}`, parseRetryAfter(res.headers['retry-after']), 'REGISTRY_ERROR');
    return res;
  }

  /** With retries, for requests that can be repeated as they are. */
  request(req: Req): Promise<HttpResponse> {
    return withRetry(this.policy, `${req.what} at ${this.host}`, () => this.once(req), this.logger);
  }

  /** A single attempt: for uploads, whose retry starts over from a new upload session. */
  attempt(req: Req): Promise<HttpResponse> {
    return this.once(req);
  }

  fail(res: HttpResponse, what: string): ReleaseError {
    return new ReleaseError('REGISTRY_ERROR', `registry ${this.host}: ${what} failed: ${errorText(res)}`);
  }
}

// Blobs seen per registry host in this process, so a later push to another
// repository of the same registry can mount instead of uploading.
const knownBlobs = new Map<string, Map<string, Set<string>>>();

function remember(host: string, digest: string, repository: string): void {
  const byDigest = knownBlobs.get(host) ?? new Map<string, Set<string>>();
  knownBlobs.set(host, byDigest);
  const repos = byDigest.get(digest) ?? new Set<string>();
  byDigest.set(digest, repos);
  repos.add(repository);
}

const mutex = keyedMutex();

/**
 * Passes `source` through, hashing it, and holds back the last chunk until the
 * bytes are known to match `d` (and `commitAfter` resolved): a source that
 * does not match (a changed file, a layer that is not what its config says)
 * fails the upload before the registry has the whole body, so it can never
 * commit it. With `hash` false (the caller hashed these bytes already) only
 * the size is checked. Reports what was sent in `sink`.
 */
async function* verified(
  source: AsyncIterable<Uint8Array>,
  d: Descriptor,
  hash: boolean,
  sink: { bytes: number },
  onBytes?: (n: number) => void,
  commitAfter?: Promise<void>,
): AsyncGenerator<Uint8Array> {
  const h = hash ? createHash('sha256') : undefined;
  let held: Uint8Array | undefined;
  for await (const chunk of source) {
    sink.bytes += chunk.length;
    if (sink.bytes > d.size) throw new ReleaseError('DIGEST_MISMATCH', `blob ${d.digest}: the source yielded more than ${d.size} bytes; it changed since it was read`);
    h?.update(chunk);
    if (held) {
      onBytes?.(held.length);
      yield held;
    }
    held = chunk;
  }
  const digest = h ? `sha256:${h.digest('hex')}` : d.digest;
  if (digest !== d.digest || sink.bytes !== d.size) {
    throw new ReleaseError('DIGEST_MISMATCH', `blob ${d.digest}: the source yielded ${sink.bytes} bytes hashing to ${digest}; it changed since it was read`);
  }
  await commitAfter;
  if (held) {
    onBytes?.(held.length);
    yield held;
  }
}

export class RegistryStore implements ImageStore {
  readonly name: string;
  readonly logger: Logger;
  private readonly pull: string[];
  private readonly push: string[];

  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
  ) {
    this.name = `${client.host}/${repository}`;
    this.logger = client.logger;
    this.pull = [`repository:${repository}:pull`];
    this.push = [`repository:${repository}:pull,push`];
  }

  private v2(path: string): string {
    return `/v2/${this.repository}/${path}`;
  }

  async hasBlob(d: Descriptor): Promise<boolean> {
    const res = await this.client.request({ method: 'HEAD', path: this.v2(`blobs/${d.digest}`), scopes: this.pull, what: `checking blob ${d.digest}` });
    if (res.status === 404) return false;
    if (res.status !== 200) throw this.client.fail(res, `checking blob ${d.digest}`);
    const served = header(res, 'docker-content-digest');
    const size = header(res, 'content-length');
    if ((served && served !== d.digest) || (size !== undefined && Number(size) !== d.size)) {
      throw new ReleaseError('DIGEST_MISMATCH', `registry ${this.client.host} holds blob ${d.digest} with ${served ?? d.digest} / ${size} bytes, expected ${d.size} bytes`);
    }
    remember(this.client.host, d.digest, this.repository);
    return true;
  }

  async mountBlob(d: Descriptor): Promise<boolean> {
    const others = [...(knownBlobs.get(this.client.host)?.get(d.digest) ?? [])].filter((r) => r !== this.repository);
    for (const from of others) {
      const path = `${this.v2('blobs/uploads/')}?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`;
      const res = await this.client.request({
        method: 'POST',
        path,
        scopes: [...this.push, `repository:${from}:pull`],
        what: `mounting blob ${d.digest} from ${from}`,
      });
      if (res.status === 201) {
        const served = header(res, 'docker-content-digest');
        if (served && served !== d.digest) throw new ReleaseError('DIGEST_MISMATCH', `registry ${this.client.host} mounted ${served} when asked for ${d.digest}`);
        remember(this.client.host, d.digest, this.repository);
        return true;
      }
      // 202: the registry opened an upload session instead; the normal upload follows.
    }
    return false;
  }

  async putBlob(d: Descriptor, open: (attempt: number) => AsyncIterable<Uint8Array>, onBytes?: (n: number) => void, opts: PutBlobOptions = {}): Promise<void> {
    const what = `uploading blob ${d.digest}`;
    await withRetry(
      this.client.policy,
      `${what} to ${this.name}`,
      async (attempt) => {
        const start = await this.client.attempt({ method: 'POST', path: this.v2('blobs/uploads/'), scopes: this.push, what: `starting upload of ${d.digest}` });
        if (start.status !== 202) throw this.client.fail(start, `starting upload of ${d.digest}`);
        const location = header(start, 'location');
        if (!location) throw new ReleaseError('REGISTRY_ERROR', `registry ${this.client.host} started an upload without a Location`);
        // The Location already carries the session state; the digest is appended (monolithic PUT).
        const session = new URL(location, this.client.base);
        const url = new URL(session);
        url.searchParams.set('digest', d.digest);
        const sent = { bytes: 0 };
        let res: HttpResponse;
        try {
          res = await this.client.attempt({
            method: 'PUT',
            path: url,
            scopes: this.push,
            what,
            headers: { 'Content-Type': 'application/octet-stream' },
            body: { size: d.size, stream: verified(open(attempt - 1), d, !opts.sourceChecked, sent, onBytes, opts.commitAfter) },
          });
        } catch (e) {
          // Abandoned for good (the source, not the network): ask the registry to drop the half-received
          // session (best effort: it may still be taking it in; registries expire unfinished uploads anyway).
          if (!(e instanceof TransientError)) await this.client.attempt({ method: 'DELETE', path: session, scopes: this.push, what: `cancelling upload of ${d.digest}` }).catch(() => undefined);
          throw e;
        }
        if (res.status !== 201) {
          if (res.status === 400 || res.status === 404) {
            // Corrupted or cut in transit (the source itself hashed right): start over.
            throw new TransientError(`${what}: ${errorText(res)}`, undefined, 'REGISTRY_ERROR');
          }
          throw this.client.fail(res, what);
        }
        const served = header(res, 'docker-content-digest');
        if (served && served !== d.digest) throw new ReleaseError('DIGEST_MISMATCH', `registry ${this.client.host} stored ${served} for blob ${d.digest}`);
      },
      this.logger,
    );
    remember(this.client.host, d.digest, this.repository);
  }

  async hasManifest(digest: string): Promise<boolean> {
    return (await this.resolve(digest)) !== undefined;
  }

  async putManifest(ref: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const digest = sha256Digest(bytes);
    const res = await this.client.request({
      method: 'PUT',
      path: this.v2(`manifests/${ref}`),
      scopes: this.push,
      what: `putting manifest ${ref}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (res.status !== 201) throw this.client.fail(res, `putting manifest ${ref === digest ? digest : `${ref} (${digest})`}`);
    const served = header(res, 'docker-content-digest');
    if (served && served !== digest) throw new ReleaseError('DIGEST_MISMATCH', `registry ${this.client.host} stored manifest ${served}, expected ${digest}`);
  }

  async resolve(ref: string): Promise<Descriptor | undefined> {
    const res = await this.client.request({ method: 'HEAD', path: this.v2(`manifests/${ref}`), scopes: this.pull, what: `resolving ${this.name}:${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.client.fail(res, `resolving ${ref}`);
    let digest = header(res, 'docker-content-digest');
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    let size = Number(header(res, 'content-length'));
    if (!digest || !mediaType || Number.isNaN(size)) {
      const m = await this.getManifest(ref);
      if (!m) return undefined;
      return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
    }
    if (ref.startsWith('sha256:') && digest !== ref) throw new ReleaseError('DIGEST_MISMATCH', `registry ${this.client.host} answered ${digest} for ${ref}`);
    digest = digest.trim();
    size = Math.trunc(size);
    return { digest, mediaType, size };
  }

  async getManifest(ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined> {
    return withRetry(
      this.client.policy,
      `reading manifest ${this.name}:${ref}`,
      async () => {
        const res = await this.client.attempt({ method: 'GET', path: this.v2(`manifests/${ref}`), scopes: this.pull, what: `reading manifest ${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw this.client.fail(res, `reading manifest ${ref}`);
        const digest = sha256Digest(res.body);
        const served = header(res, 'docker-content-digest');
        // A body that does not hash to what was asked or announced was cut or corrupted in transit.
        if ((ref.startsWith('sha256:') && digest !== ref) || (served && served !== digest)) {
          throw new TransientError(`manifest ${ref} read back as ${digest}${served ? ` (registry says ${served})` : ''}`);
        }
        return { bytes: res.body, mediaType: (header(res, 'content-type') ?? '').split(';')[0]!.trim(), digest };
      },
      this.logger,
    );
  }

  /** One GET of a blob, following redirects to the storage backend (no auth there). */
  private async fetchBlob(digest: string, opts: { maxBytes?: number; onBody?: (chunk: Buffer) => void }): Promise<HttpResponse> {
    const what = `reading blob ${digest}`;
    let res = await this.client.attempt({ method: 'GET', path: this.v2(`blobs/${digest}`), scopes: this.pull, what, maxResponseBytes: opts.maxBytes, onBody: opts.onBody });
    for (let hops = 0; hops < 3 && [301, 302, 303, 307, 308].includes(res.status); hops++) {
      const location = header(res, 'location');
      if (!location) break;
      res = await httpRequest({ method: 'GET', url: new URL(location, this.client.base), maxResponseBytes: opts.maxBytes, onBody: opts.onBody, ...this.client.timeouts() });
    }
    if (res.status === 404) throw new ReleaseError('NOT_FOUND', `blob ${digest} not found in ${this.name}`);
    if (res.status !== 200) throw this.client.fail(res, what);
    return res;
  }

  async getBlob(digest: string, maxBytes: number): Promise<Buffer> {
    return withRetry(
      this.client.policy,
      `reading blob ${this.name}@${digest}`,
      async () => {
        const res = await this.fetchBlob(digest, { maxBytes });
        const got = sha256Digest(res.body);
        if (got !== digest) throw new TransientError(`blob ${digest} read back as ${got}`);
        return res.body;
      },
      this.logger,
    );
  }

  async checkBlob(d: Descriptor, opts: { full?: boolean } = {}): Promise<BlobState> {
    try {
      if (!(await this.hasBlob(d))) return { state: 'missing' };
    } catch (e) {
      if (isReleaseError(e, 'DIGEST_MISMATCH')) return { state: 'corrupt', detail: e.message };
      throw e;
    }
    if (!opts.full) return { state: 'ok' };
    // Read back whole and hashed, streamed: a layer may be larger than memory.
    let last = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      let h = createHash('sha256');
      let size = 0;
      try {
        await withRetry(
          this.client.policy,
          `reading blob ${this.name}@${d.digest}`,
          () => {
            // Each attempt hashes from the first byte.
            h = createHash('sha256');
            size = 0;
            return this.fetchBlob(d.digest, {
              onBody: (c) => {
                size += c.length;
                h.update(c);
              },
            });
          },
          this.logger,
        );
      } catch (e) {
        if (isReleaseError(e, 'NOT_FOUND')) return { state: 'missing' };
        throw e;
      }
      const got = `sha256:${h.digest('hex')}`;
      if (got === d.digest && size === d.size) return { state: 'ok' };
      last = `registry ${this.client.host} served ${size} bytes hashing to ${got} for blob ${d.digest} of ${d.size} bytes`;
    }
    return { state: 'corrupt', detail: last };
  }

  async discardBlob(d: Descriptor): Promise<boolean> {
    try {
      const res = await this.client.request({ method: 'DELETE', path: this.v2(`blobs/${d.digest}`), scopes: [`repository:${this.repository}:delete`, ...this.push], what: `deleting blob ${d.digest}` });
      return res.status === 202 || res.status === 404;
    } catch (e) {
      // Not allowed to delete: the caller reports who must.
      if (isReleaseError(e, 'AUTH_ERROR')) return false;
      throw e;
    }
  }

  async listTags(): Promise<string[]> {
    const tags = new Set<string>();
    let path: string | undefined = this.v2('tags/list');
    for (let page = 0; path && page < 1000; page++) {
      const res: HttpResponse = await this.client.request({ method: 'GET', path, scopes: this.pull, what: `listing tags of ${this.name}` });
      if (res.status === 404) return [];
      if (res.status !== 200) throw this.client.fail(res, 'listing tags');
      const json = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
      for (const t of json.tags ?? []) tags.add(t);
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      path = link?.[1];
    }
    return [...tags].sort();
  }

  async referrers(digest: string, artifactType?: string): Promise<Descriptor[] | undefined> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.client.request({ method: 'GET', path: this.v2(`referrers/${digest}${query}`), scopes: this.pull, what: `listing referrers of ${digest}`, headers: { Accept: OCI_INDEX } });
    const type = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    if (res.status !== 200 || type !== OCI_INDEX) return undefined;
    const index = JSON.parse(res.body.toString('utf8')) as { manifests?: Descriptor[] };
    return index.manifests ?? [];
  }

  /**
   * Read-modify-write of a tag or index, serialised within this process and
   * between processes of this machine (a lock file in the temp directory).
   * Registries have no compare-and-swap on tags: writers on other machines
   * are not held off (ADR 0008).
   */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${this.name}#${key}`;
    return mutex(id, async () => {
      const dir = join(tmpdir(), 'nixrel-registry-locks');
      // Shared by every user of the machine, like /tmp itself (umask would narrow the mode given to mkdir).
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o1777).catch(() => undefined);
      return withLockFile(join(dir, `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.lock`), fn, { logger: this.logger });
    });
  }
}

export function openRegistryStore(registry: string, repository: string, opts: RegistryOptions = {}): RegistryStore {
  return new RegistryStore(new RegistryClient(registry, { ...opts, repository }), repository);
}
