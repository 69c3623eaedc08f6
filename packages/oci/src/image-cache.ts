import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, rm, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ArtifactFormat } from '@nixrel/core';
import { type Logger, ReleaseError, sha256Digest, silentLogger, writeFileAtomic } from '@nixrel/core';
import type { ImageParts, LayerSource } from './archive.js';

/**
 * What reading an artifact produced (manifest, config, layer digests, sizes
 * and offsets), remembered by the artifact's file identity: real path, size,
 * mtime, ctime, inode and device, as git's index does. A Nix output never
 * changes in place, so a re-push of the same output needs no read at all;
 * any write to a file bumps its ctime (which no user can set back), so a
 * changed file is never mistaken for the one that was read. One small JSON
 * file per artifact, written atomically: concurrent pushes cannot tear it.
 *
 * The cache never changes a result: an entry that is unreadable, of another
 * version, for another identity, or not self-consistent (manifest and config
 * bytes must hash to their digests and agree with the layer list) is ignored
 * and rewritten after a fresh read; failing to write it only costs speed.
 * Layer bytes read later (for blobs a target lacks) are verified against the
 * layer digest while they are uploaded.
 */

export interface ArtifactIdentity {
  /** Real path: a re-pointed symlink (such as Nix's `result`) is another artifact. */
  path: string;
  size: number;
  /** Nanosecond times and inode numbers as decimal strings (they exceed doubles). */
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

export interface CacheOptions {
  /** Cache directory, or false for none. Default: `$NIXREL_OCI_CACHE` (`off` disables), `$XDG_CACHE_HOME/nixrel/oci`, `~/.cache/nixrel/oci`. */
  cache?: string | false;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

const VERSION = 1;
const FORMATS: ArtifactFormat[] = ['docker-archive', 'docker-archive+gzip', 'docker-stream'];
const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Entries kept: beyond this many, the least recently used are dropped. */
const MAX_ENTRIES = 2000;
/** A file changed this recently may change again within the same timestamp tick unnoticed ("racy git"): not remembered yet. */
const RACY_NS = 2_000_000_000n;

export async function artifactIdentity(path: string): Promise<ArtifactIdentity> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `image artifact not found: ${path}`, { cause: e });
  }
  const st = await stat(real, { bigint: true });
  if (!st.isFile()) throw new ReleaseError('INVALID_INPUT', `image artifact ${path} is not a file`);
  return { path: real, size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), dev: String(st.dev) };
}

export function sameIdentity(a: ArtifactIdentity, b: ArtifactIdentity): boolean {
  return a.path === b.path && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

export function isRacy(id: ArtifactIdentity, nowMs = Date.now()): boolean {
  const now = BigInt(nowMs) * 1_000_000n;
  return now - BigInt(id.ctimeNs) < RACY_NS || now - BigInt(id.mtimeNs) < RACY_NS;
}

/** Where the cache lives, or undefined when it is turned off. */
export function cacheDir(opts: CacheOptions): string | undefined {
  if (opts.cache === false) return undefined;
  if (typeof opts.cache === 'string') return resolve(opts.cache);
  const env = opts.env ?? process.env;
  const explicit = env.NIXREL_OCI_CACHE;
  if (explicit === 'off') return undefined;
  if (explicit) return resolve(explicit);
  // The XDG spec says a relative XDG_CACHE_HOME is to be ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'nixrel', 'oci');
  return join(env.HOME || homedir(), '.cache', 'nixrel', 'oci');
}

interface CacheEntry {
  version: number;
  identity: ArtifactIdentity;
  image: Omit<ImageParts, 'manifest' | 'config'> & { manifest: string; config: string };
}

const isInt = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** The entry's image, or why it cannot be used. */
function entryImage(json: unknown, id: ArtifactIdentity, format: ArtifactFormat | undefined): ImageParts | string {
  const e = json as Partial<CacheEntry> | null;
  if (!e || typeof e !== 'object' || e.version !== VERSION) return 'another version';
  if (!e.identity || typeof e.identity !== 'object' || !sameIdentity(e.identity, id)) return 'another file identity';
  const img = e.image;
  if (!img || typeof img !== 'object' || !FORMATS.includes(img.format)) return 'no image';
  if (format && img.format !== format) return `read as ${img.format}, asked for ${format}`;
  if (typeof img.manifest !== 'string' || typeof img.config !== 'string' || typeof img.digest !== 'string' || typeof img.configDigest !== 'string') return 'no manifest';
  const manifest = new TextEncoder().encode(img.manifest);
  const config = new TextEncoder().encode(img.config);
  if (sha256Digest(manifest) !== img.digest || sha256Digest(config) !== img.configDigest) return 'manifest or config does not match its digest';
  let m: { mediaType?: unknown; config?: { digest?: unknown; size?: unknown }; layers?: { mediaType?: unknown; digest?: unknown; size?: unknown }[] };
  try {
    m = JSON.parse(img.manifest);
  } catch {
    return 'manifest is not JSON';
  }
  if (m.mediaType !== img.mediaType || m.config?.digest !== img.configDigest || m.config?.size !== config.length) return 'manifest disagrees with the config';
  if (!Array.isArray(m.layers) || !Array.isArray(img.layers) || m.layers.length !== img.layers.length) return 'manifest disagrees with the layers';
  const layers: LayerSource[] = [];
  for (const [i, l] of img.layers.entries()) {
    const d = m.layers[i]!;
    if (!l || typeof l.digest !== 'string' || !DIGEST.test(l.digest) || l.diffId !== l.digest || typeof l.entry !== 'string') return `layer ${i} is malformed`;
    if (!isInt(l.size) || !isInt(l.dataOffset) || d.digest !== l.digest || d.size !== l.size || d.mediaType !== l.mediaType) return `layer ${i} disagrees with the manifest`;
    layers.push({ entry: l.entry, dataOffset: l.dataOffset, digest: l.digest, diffId: l.diffId, size: l.size, mediaType: l.mediaType });
  }
  const repoTags = Array.isArray(img.repoTags) ? img.repoTags.filter((t): t is string => typeof t === 'string') : [];
  return { format: img.format, digest: img.digest, mediaType: img.mediaType, manifest, config, configDigest: img.configDigest, layers, repoTags };
}

export class ImageCache {
  constructor(
    readonly dir: string,
    readonly logger: Logger = silentLogger,
  ) {}

  /** One file per artifact, named by its real path. */
  fileFor(id: ArtifactIdentity): string {
    return join(this.dir, `${createHash('sha256').update(id.path).digest('hex').slice(0, 40)}.json`);
  }

  async get(id: ArtifactIdentity, format?: ArtifactFormat): Promise<ImageParts | undefined> {
    const file = this.fileFor(id);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.logger.debug(`ignoring corrupt cache entry ${file} for ${id.path}`);
      return undefined;
    }
    const image = entryImage(json, id, format);
    if (typeof image === 'string') {
      this.logger.debug(`ignoring cache entry ${file} for ${id.path}: ${image}`);
      return undefined;
    }
    // Pruning drops the least recently used entries.
    await utimes(file, new Date(), new Date()).catch(() => undefined);
    return image;
  }

  async put(id: ArtifactIdentity, image: ImageParts): Promise<void> {
    const entry: CacheEntry = {
      version: VERSION,
      identity: id,
      image: {
        format: image.format,
        digest: image.digest,
        mediaType: image.mediaType,
        manifest: new TextDecoder().decode(image.manifest),
        config: new TextDecoder().decode(image.config),
        configDigest: image.configDigest,
        layers: image.layers.map(({ entry, dataOffset, digest, diffId, size, mediaType }) => ({ entry, dataOffset, digest, diffId, size, mediaType })),
        repoTags: image.repoTags,
      },
    };
    try {
      await writeFileAtomic(this.fileFor(id), `${JSON.stringify(entry)}\n`);
      await this.prune();
    } catch (e) {
      this.logger.debug(`cannot write the image cache in ${this.dir}: ${(e as Error).message}`);
    }
  }

  /** Keeps the directory small: entries for long-gone artifacts are the least recently used. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    if (names.length <= MAX_ENTRIES) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, names.length - MAX_ENTRIES / 2)) await rm(join(this.dir, n), { force: true });
  }
}
