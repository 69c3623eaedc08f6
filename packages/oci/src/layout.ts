import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Logger, ReleaseError, sha256Digest, sha256File, silentLogger, writeFileAtomic } from '@nixrel/core';
import { ioError } from './io-error.js';
import { withLockFile } from './lock-file.js';
import { type Descriptor, OCI_INDEX, REF_NAME_ANNOTATION } from './media-types.js';
import { type BlobState, type ImageStore, keyedMutex, type PutBlobOptions } from './store.js';

/**
 * An OCI image layout directory (image-layout spec): `oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`. Tags are `org.opencontainers.image.ref.name`
 * annotations in index.json. Blobs are written to a temporary name, hashed on
 * the way, and renamed into place only when they match their digest. index.json
 * is rewritten under a lock file, so concurrent writers (other processes
 * included) do not lose each other's entries.
 */

interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

const mutex = keyedMutex();
const holding = new AsyncLocalStorage<string>();

export class LayoutStore implements ImageStore {
  readonly name: string;

  constructor(
    readonly dir: string,
    readonly logger: Logger = silentLogger,
  ) {
    this.name = `oci:${dir}`;
  }

  private blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || !hex || !/^[a-f0-9]{64}$/.test(hex)) throw new ReleaseError('INVALID_INPUT', `invalid digest "${digest}"`);
    return join(this.dir, 'blobs', 'sha256', hex);
  }

  /** Creates the layout on first write; refuses a non-empty directory that is not one. */
  private async ensure(): Promise<void> {
    const marker = join(this.dir, 'oci-layout');
    try {
      const text = await readFile(marker, 'utf8');
      if (!(JSON.parse(text) as { imageLayoutVersion?: string }).imageLayoutVersion) throw new Error('no imageLayoutVersion');
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ReleaseError('INVALID_INPUT', `${this.dir}: oci-layout is unreadable or invalid`, { cause: e });
    }
    // What a first write killed half-way leaves behind (the blob store, a temp
    // file, the lock) does not make the directory someone else's.
    const existing = await readdir(this.dir).catch(() => [] as string[]);
    const ours = (f: string) => f.startsWith('.') || f === 'blobs' || f === 'index.json' || f === 'index.json.lock' || f.endsWith('.tmp');
    if (!existing.every(ours)) {
      throw new ReleaseError('INVALID_INPUT', `${this.dir} is not an OCI image layout (no oci-layout file) and is not empty`);
    }
    try {
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      await writeFileAtomic(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      if (!(await stat(join(this.dir, 'index.json')).catch(() => undefined))) await this.writeIndex({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    } catch (e) {
      throw ioError(e, this.dir);
    }
  }

  private async readIndex(): Promise<Index> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'index.json'), 'utf8');
    } catch {
      return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
    }
    try {
      const index = JSON.parse(text) as Index;
      if (!Array.isArray(index.manifests)) throw new Error('no manifests array');
      return index;
    } catch (e) {
      throw new ReleaseError('INVALID_INPUT', `${this.dir}/index.json is not a valid OCI index`, { cause: e });
    }
  }

  private async writeIndex(index: Index): Promise<void> {
    const path = join(this.dir, 'index.json');
    await writeFileAtomic(path, `${JSON.stringify(index, null, 2)}\n`).catch((e: unknown) => {
      throw ioError(e, path);
    });
  }

  /** index.json is rewritten under a lock file next to it (see lock-file.ts), and this process's own mutex. */
  private async withIndexLock<T>(fn: () => Promise<T>): Promise<T> {
    if (holding.getStore() === this.dir) return fn();
    return mutex(this.dir, async () => {
      await this.ensure();
      return withLockFile(join(this.dir, 'index.json.lock'), () => holding.run(this.dir, fn), { logger: this.logger });
    });
  }

  /** A blob counts as present only if it hashes to its digest: a file deleted or damaged since it was written is written again. */
  async hasBlob(d: Descriptor): Promise<boolean> {
    return (await this.checkBlob(d)).state === 'ok';
  }

  async checkBlob(d: Descriptor): Promise<BlobState> {
    const path = this.blobPath(d.digest);
    const st = await stat(path).catch(() => undefined);
    if (!st) return { state: 'missing' };
    if (st.size !== d.size) return { state: 'corrupt', detail: `${path} has ${st.size} bytes, expected ${d.size}` };
    const { digest } = await sha256File(path);
    return digest === d.digest ? { state: 'ok' } : { state: 'corrupt', detail: `${path} hashes to ${digest}` };
  }

  async discardBlob(d: Descriptor): Promise<boolean> {
    await rm(this.blobPath(d.digest), { force: true });
    return true;
  }

  async mountBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(d: Descriptor, open: (attempt: number) => AsyncIterable<Uint8Array>, onBytes?: (n: number) => void, opts: PutBlobOptions = {}): Promise<void> {
    await this.ensure();
    const final = this.blobPath(d.digest);
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    let size = 0;
    const hashed = async function* () {
      for await (const chunk of open(0)) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(chunk.length);
        yield chunk;
      }
    };
    try {
      // pipeline ends both sides on any failure (a full disk included) and reports it here.
      await pipeline(hashed(), createWriteStream(tmp));
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== d.digest || size !== d.size) {
        throw new ReleaseError('DIGEST_MISMATCH', `blob ${d.digest}: the source yielded ${size} bytes hashing to ${digest}`);
      }
      await opts.commitAfter;
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw ioError(e, tmp);
    }
  }

  async hasManifest(digest: string): Promise<boolean> {
    const index = await this.readIndex();
    if (!index.manifests.some((m) => m.digest === digest)) return false;
    // A manifest blob deleted or damaged since is not there.
    return (await this.getManifest(digest).catch(() => undefined)) !== undefined;
  }

  private async putBytes(bytes: Uint8Array): Promise<string> {
    const digest = sha256Digest(bytes);
    if (!(await this.hasBlob({ mediaType: '', digest, size: bytes.length }))) {
      await this.ensure();
      await writeFileAtomic(this.blobPath(digest), bytes).catch((e: unknown) => {
        throw ioError(e, this.blobPath(digest));
      });
    }
    return digest;
  }

  async putManifest(ref: string, bytes: Uint8Array, mediaType: string, opts: { root?: boolean } = {}): Promise<void> {
    const digest = await this.putBytes(bytes);
    const isDigest = ref.startsWith('sha256:');
    if (isDigest && ref !== digest) throw new ReleaseError('DIGEST_MISMATCH', `manifest for ${ref} hashes to ${digest}`);
    if (isDigest && !opts.root) return;
    const desc: Descriptor = { mediaType, digest, size: bytes.length };
    await this.withIndexLock(async () => {
      const index = await this.readIndex();
      if (isDigest) {
        if (!index.manifests.some((m) => m.digest === digest)) index.manifests.push(desc);
      } else {
        index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== ref);
        index.manifests.push({ ...desc, annotations: { [REF_NAME_ANNOTATION]: ref } });
        // An untagged entry for the same manifest is now redundant.
        index.manifests = index.manifests.filter((m) => m.digest !== digest || m.annotations?.[REF_NAME_ANNOTATION] !== undefined);
      }
      await this.writeIndex(index);
    });
  }

  async resolve(ref: string): Promise<Descriptor | undefined> {
    if (ref.startsWith('sha256:')) {
      const m = await this.getManifest(ref);
      return m ? { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } : undefined;
    }
    const index = await this.readIndex();
    const entry = index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === ref);
    return entry ? { mediaType: entry.mediaType, digest: entry.digest, size: entry.size } : undefined;
  }

  async getManifest(ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined> {
    let digest = ref;
    if (!ref.startsWith('sha256:')) {
      const d = await this.resolve(ref);
      if (!d) return undefined;
      digest = d.digest;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(digest));
    } catch {
      return undefined;
    }
    if (sha256Digest(bytes) !== digest) throw new ReleaseError('DIGEST_MISMATCH', `${this.dir}: blob ${digest} is corrupt`);
    let mediaType = '';
    try {
      mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
    } catch {
      throw new ReleaseError('INVALID_INPUT', `${this.dir}: ${digest} is not a manifest`);
    }
    return { bytes, mediaType, digest };
  }

  async getBlob(digest: string, maxBytes: number): Promise<Buffer> {
    const path = this.blobPath(digest);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new ReleaseError('NOT_FOUND', `blob ${digest} not found in ${this.name}`);
    if (st.size > maxBytes) throw new ReleaseError('INVALID_INPUT', `blob ${digest} is larger than ${maxBytes} bytes`);
    const bytes = await readFile(path);
    if (sha256Digest(bytes) !== digest) throw new ReleaseError('DIGEST_MISMATCH', `${this.dir}: blob ${digest} is corrupt`);
    return bytes;
  }

  async listTags(): Promise<string[]> {
    const index = await this.readIndex();
    return [...new Set(index.manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((t): t is string => !!t))].sort();
  }

  async referrers(): Promise<Descriptor[] | undefined> {
    return undefined;
  }

  exclusive<T>(_key: string, fn: () => Promise<T>): Promise<T> {
    return this.withIndexLock(fn);
  }
}
