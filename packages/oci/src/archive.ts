import { createHash, type Hash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ArtifactFormat, LayerRecord } from '@nixrel/core';
import { ReleaseError, sha256Digest } from '@nixrel/core';
import { type OnRead, rangeRead, sequentialLayers, tarBytes } from './archive-stream.js';
import { buildManifest, configDescriptor, type DockerConfig, layerDescriptor, toOciConfig } from './image.js';
import { hashRanges } from './layer-hash.js';
import { OCI_LAYER_TAR, OCI_MANIFEST } from './media-types.js';
import { checkEntryName, type TarEntry, TarScanner } from './tar.js';

/**
 * Reading what Nix builds: dockerTools' docker-archive (plain or gzipped) and
 * streamLayeredImage's executable, whose stdout is the same tar. A
 * docker-archive may list its layers in manifest.json, written after the
 * layers, so reading is two passes: the first reads headers and small JSON
 * entries and hashes every layer (never buffering one); the second streams
 * only the layers a target lacks. An uncompressed archive on disk is walked
 * header to header the first time (seeking over layer data, which is then
 * hashed by range on all cores), and read by byte range the second time, so
 * layers can be uploaded in parallel and retried from disk.
 */

export interface LayerSource extends LayerRecord {
  /** Entry name inside the archive. */
  entry: string;
  /** Offset of the layer bytes in the uncompressed tar. */
  dataOffset: number;
}

/** What reading an artifact yields: everything a push needs except the layer bytes. */
export interface ImageParts {
  format: ArtifactFormat;
  /** Manifest digest; what a push of this artifact produces, on any machine. */
  digest: string;
  mediaType: string;
  manifest: Uint8Array;
  config: Uint8Array;
  configDigest: string;
  layers: LayerSource[];
  /** RepoTags recorded in the archive (informational). */
  repoTags: string[];
}

export interface ImageLayout extends ImageParts {
  path: string;
  /** True when layers can be read by byte range (uncompressed file). */
  seekable: boolean;
  /** A fresh read of one layer's bytes. */
  openLayer(index: number): AsyncIterable<Uint8Array>;
  /** One sequential read of the archive, yielding the given layers in archive order. */
  streamLayers(indices: number[]): AsyncGenerator<{ index: number; body: AsyncIterable<Uint8Array> }>;
  /**
   * Set when the layers are still being hashed (`deferLayerHashes`): resolves
   * once every layer matched its diff_id, rejects with DIGEST_MISMATCH if one
   * did not. Until then the layer digests are the config's claims.
   */
  layersVerified?: Promise<void>;
}

export interface ReadOptions {
  /** Called with the number of bytes each read took from the artifact. */
  onRead?: (bytes: number) => void;
  /** Hash the layers of a large uncompressed archive on worker threads (default true). */
  parallelHash?: boolean;
  /**
   * For a large uncompressed archive, return before its layers are hashed,
   * with `layersVerified` to await: a push can then upload while it hashes,
   * committing nothing until the hashes are in.
   */
  deferLayerHashes?: boolean;
}

/** Below this many layer bytes, hashing first costs too little to overlap with anything. */
const DEFER_MIN_BYTES = 64 << 20;

/** Detects the artifact's format from its first bytes (and exec bit for scripts). */
export async function detectFormat(path: string, onRead?: OnRead): Promise<ArtifactFormat> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `image artifact not found: ${path}`, { cause: e });
  }
  if (!st.isFile()) throw new ReleaseError('INVALID_INPUT', `image artifact ${path} is not a file`);
  const fh = await open(path, 'r');
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = (await fh.read(head, 0, 512, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  onRead?.(n);
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'docker-archive+gzip';
  if (n === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'docker-archive';
  const script = head.subarray(0, 2).toString('latin1') === '#!' || head.subarray(0, 4).toString('latin1') === '\x7fELF';
  if (script && (st.mode & 0o111) !== 0) return 'docker-stream';
  if (n === 0) throw new ReleaseError('ARCHIVE_ERROR', `image artifact ${path} is empty`);
  throw new ReleaseError('ARCHIVE_ERROR', `image artifact ${path} is neither a docker-archive (tar or tar.gz) nor an executable image stream`);
}

interface ScannedEntry extends TarEntry {
  digest?: string;
  json?: Buffer;
  /** First bytes of the data, to recognise compressed layers. */
  magic?: Buffer;
}

/**
 * What reading an archive may hold in memory, whatever the archive says: a
 * docker-archive has a manifest.json, one config and perhaps `repositories`
 * at its top level, and a few entries per layer. Only those top-level
 * metadata entries are buffered; everything else is hashed or skipped.
 */
export const ARCHIVE_LIMITS = {
  entries: 10_000,
  metadataEntries: 16,
  metadataEntryBytes: 8 << 20,
  metadataBytes: 32 << 20,
};

const isMetadata = (name: string) => !name.includes('/') && (name.endsWith('.json') || name === 'repositories');

/** Registers each entry, refusing duplicates of regular files and anything beyond the budget. */
function entryRegistry(path: string) {
  const entries = new Map<string, ScannedEntry>();
  let metadataEntries = 0;
  let metadataBytes = 0;
  const tooMuch = (name: string, what: string) => new ReleaseError('ARCHIVE_ERROR', `${path}: entry "${name}": ${what}; a docker-archive holds a manifest.json, one config and its layers`);
  return {
    entries,
    /** Adds an entry; true when its data is image metadata to buffer. */
    add(e: TarEntry): { entry: ScannedEntry; buffer: boolean } {
      const name = checkEntryName(e.name, path);
      const entry: ScannedEntry = { ...e, name };
      const regular = entry.type === '0' || entry.type === '7';
      if (regular && entries.has(name) && entries.get(name)!.type !== '5') {
        throw new ReleaseError('ARCHIVE_ERROR', `${path}: duplicate tar entry "${name}"`);
      }
      if (!entries.has(name) && entries.size >= ARCHIVE_LIMITS.entries) throw tooMuch(name, `more than ${ARCHIVE_LIMITS.entries} entries`);
      entries.set(name, entry);
      if (!regular || !isMetadata(name)) return { entry, buffer: false };
      if (e.size > ARCHIVE_LIMITS.metadataEntryBytes) throw tooMuch(name, `${e.size} bytes of metadata (at most ${ARCHIVE_LIMITS.metadataEntryBytes} allowed)`);
      metadataEntries++;
      metadataBytes += e.size;
      if (metadataEntries > ARCHIVE_LIMITS.metadataEntries) throw tooMuch(name, `more than ${ARCHIVE_LIMITS.metadataEntries} metadata entries (*.json, repositories)`);
      if (metadataBytes > ARCHIVE_LIMITS.metadataBytes) throw tooMuch(name, `more than ${ARCHIVE_LIMITS.metadataBytes} bytes of metadata in all`);
      return { entry, buffer: true };
    },
  };
}

/** Pass 1 over a stream (gzip, stream script): every entry's header, the metadata bodies, and the sha256 of everything else. */
async function scanArchive(path: string, format: ArtifactFormat, onRead?: OnRead): Promise<Map<string, ScannedEntry>> {
  const registry = entryRegistry(path);
  let current: ScannedEntry | undefined;
  let hash: Hash | undefined;
  let json: Buffer[] | undefined;
  const scanner = new TarScanner(path, {
    entry(e) {
      const { entry, buffer } = registry.add(e);
      current = entry;
      json = buffer ? [] : undefined;
      hash = !buffer && (entry.type === '0' || entry.type === '7') ? createHash('sha256') : undefined;
    },
    data(chunk) {
      if (current && !current.magic) current.magic = Buffer.from(chunk.subarray(0, 4));
      if (hash) hash.update(chunk);
      else if (json) json.push(Buffer.from(chunk));
    },
    entryEnd() {
      if (!current) return;
      if (hash) current.digest = `sha256:${hash.digest('hex')}`;
      if (json) current.json = Buffer.concat(json);
      current = undefined;
      hash = undefined;
      json = undefined;
    },
  });
  for await (const chunk of tarBytes(path, format, onRead)) scanner.write(chunk);
  scanner.end();
  return registry.entries;
}

/**
 * Pass 1 over an uncompressed file: headers and small JSON bodies only,
 * seeking over everything else. Layers are hashed afterwards, by range.
 */
async function walkArchive(path: string, onRead?: OnRead): Promise<Map<string, ScannedEntry>> {
  const registry = entryRegistry(path);
  let current: ScannedEntry | undefined;
  let json: Buffer[] | undefined;
  let skip = false;
  const scanner = new TarScanner(path, {
    entry(e) {
      const { entry, buffer } = registry.add(e);
      current = entry;
      json = buffer ? [] : undefined;
      skip = !buffer && (entry.type === '0' || entry.type === '7');
    },
    data(chunk) {
      json?.push(Buffer.from(chunk));
    },
    entryEnd() {
      if (current && json) current.json = Buffer.concat(json);
      current = undefined;
      json = undefined;
    },
  });
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (!scanner.finished) {
      if (skip && scanner.inData) {
        skip = false;
        const name = current?.name;
        pos += scanner.skipData();
        if (pos > size) throw new ReleaseError('ARCHIVE_ERROR', `${path}: truncated tar archive (entry "${name}" ends at byte ${pos}, the file has ${size} bytes)`);
        continue;
      }
      const { bytesRead } = await fh.read(buf, 0, Math.min(scanner.needed, buf.length), pos);
      onRead?.(bytesRead);
      if (bytesRead === 0) {
        scanner.end();
        break;
      }
      pos += bytesRead;
      scanner.write(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return registry.entries;
}

function parseJsonEntry<T>(entry: ScannedEntry | undefined, name: string, path: string): T {
  if (!entry?.json) throw new ReleaseError('ARCHIVE_ERROR', `${path}: missing "${name}" (not a docker-archive?)`);
  try {
    return JSON.parse(entry.json.toString('utf8')) as T;
  } catch (e) {
    throw new ReleaseError('ARCHIVE_ERROR', `${path}: "${name}" is not valid JSON`, { cause: e });
  }
}

/** Follows symlink/hard-link entries (docker save dedupes layers this way), staying inside the archive. */
function resolveEntry(entries: Map<string, ScannedEntry>, name: string, path: string): ScannedEntry {
  let key = checkEntryName(name, path);
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(key);
    if (!e) throw new ReleaseError('ARCHIVE_ERROR', `${path}: manifest.json names "${name}", which the archive does not contain`);
    if (e.type !== '1' && e.type !== '2') return e;
    const target = e.type === '2' ? posix.normalize(posix.join(posix.dirname(key), e.linkname)) : e.linkname;
    key = checkEntryName(target, path);
  }
  throw new ReleaseError('ARCHIVE_ERROR', `${path}: link loop at "${name}"`);
}

/**
 * Reads an image artifact (pass 1) and derives its OCI image: manifest,
 * config and uncompressed layers, with every layer checked against the
 * config's diff_ids.
 */
export async function readImageArtifact(path: string, format?: ArtifactFormat, opts: ReadOptions = {}): Promise<ImageLayout> {
  const { onRead } = opts;
  const fmt = format ?? (await detectFormat(path, onRead));
  if (format) await assertFile(path);
  const seekable = fmt === 'docker-archive';
  const entries = seekable ? await walkArchive(path, onRead) : await scanArchive(path, fmt, onRead);
  const manifestJson = parseJsonEntry<unknown>(entries.get('manifest.json'), 'manifest.json', path);
  if (!Array.isArray(manifestJson) || manifestJson.length !== 1) {
    throw new ReleaseError(
      'ARCHIVE_ERROR',
      `${path}: manifest.json must describe exactly one image (found ${Array.isArray(manifestJson) ? manifestJson.length : 'no list'})`,
    );
  }
  const m = manifestJson[0] as { Config?: unknown; Layers?: unknown; RepoTags?: unknown };
  if (typeof m.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
    throw new ReleaseError('ARCHIVE_ERROR', `${path}: manifest.json entry lacks "Config" or "Layers"`);
  }
  const configEntry = resolveEntry(entries, m.Config, path);
  const docker = parseJsonEntry<DockerConfig>(configEntry, m.Config, path);
  const config = toOciConfig(docker, `${path} (${m.Config})`);
  const diffIds = docker.rootfs!.diff_ids!;
  const layerNames = m.Layers as string[];
  if (diffIds.length !== layerNames.length) {
    throw new ReleaseError('ARCHIVE_ERROR', `${path}: manifest.json lists ${layerNames.length} layers but the config has ${diffIds.length} diff_ids`);
  }
  const layerEntries = layerNames.map((name) => {
    const e = resolveEntry(entries, name, path);
    if (e.type !== '0' && e.type !== '7') throw new ReleaseError('ARCHIVE_ERROR', `${path}: layer "${name}" is not a regular file`);
    return e;
  });
  const checkLayer = (e: ScannedEntry, i: number): string => {
    const digest = e.digest ?? sha256Digest(e.json ?? new Uint8Array());
    if (digest !== diffIds[i]) {
      const compressed = e.magic && e.magic[0] === 0x1f && e.magic[1] === 0x8b;
      throw new ReleaseError(
        'DIGEST_MISMATCH',
        `${path}: layer ${i} "${layerNames[i]}" has sha256 ${digest} but the config's diff_id is ${diffIds[i]}${compressed ? ' (the layer is gzip-compressed; only uncompressed layers are supported)' : ''}`,
      );
    }
    return digest;
  };
  let layersVerified: Promise<void> | undefined;
  if (seekable) {
    // Each distinct entry once, even when several layers name it.
    const todo = [...new Set(layerEntries.filter((e) => !e.json && !e.digest))];
    const hashAll = async () => {
      const hashes = await hashRanges(
        path,
        todo.map((e) => ({ offset: e.dataOffset, size: e.size })),
        { onRead, parallel: opts.parallelHash },
      );
      todo.forEach((e, i) => {
        e.digest = hashes[i]!.digest;
        e.magic = hashes[i]!.magic;
      });
      layerEntries.forEach(checkLayer);
    };
    if (opts.deferLayerHashes && todo.reduce((n, e) => n + e.size, 0) >= DEFER_MIN_BYTES) {
      layersVerified = hashAll();
      // Awaited by the caller before anything is committed; never an unhandled rejection meanwhile.
      layersVerified.catch(() => undefined);
    } else {
      await hashAll();
    }
  }
  // Until the hashes are in, a deferred layer is what the config says it is.
  const layers: LayerSource[] = layerEntries.map((e, i) => {
    const digest = layersVerified ? diffIds[i]! : checkLayer(e, i);
    return { entry: e.name, dataOffset: e.dataOffset, digest, diffId: digest, size: e.size, mediaType: OCI_LAYER_TAR };
  });
  const configDesc = configDescriptor(config);
  const manifest = buildManifest(
    configDesc,
    layers.map((l) => layerDescriptor(l.digest, l.size)),
  );
  const parts: ImageParts = {
    format: fmt,
    digest: sha256Digest(manifest),
    mediaType: OCI_MANIFEST,
    manifest,
    config,
    configDigest: configDesc.digest,
    layers,
    repoTags: Array.isArray(m.RepoTags) ? (m.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string') : [],
  };
  return { ...imageLayout(path, parts, onRead), ...(layersVerified ? { layersVerified } : {}) };
}

/** The image of `parts` with its layer bytes read from the artifact at `path` on demand. */
export function imageLayout(path: string, parts: ImageParts, onRead?: OnRead): ImageLayout {
  const { layers, format } = parts;
  const seekable = format === 'docker-archive';
  return {
    ...parts,
    path,
    seekable,
    openLayer(index) {
      const layer = layers[index];
      if (!layer) throw new ReleaseError('INTERNAL', `no layer ${index}`);
      if (seekable) return rangeRead(path, layer.dataOffset, layer.size, onRead);
      const it = sequentialLayers(path, format, new Map([[layer.dataOffset, [index]]]), onRead);
      return (async function* () {
        try {
          for await (const { body } of it) {
            yield* body;
            return;
          }
        } finally {
          await it.return(undefined);
        }
      })();
    },
    async *streamLayers(indices) {
      const wanted = new Map<number, number[]>();
      for (const i of indices) {
        const l = layers[i]!;
        wanted.set(l.dataOffset, [...(wanted.get(l.dataOffset) ?? []), i]);
      }
      if (seekable) {
        const order = [...wanted.entries()].sort((a, b) => a[0] - b[0]);
        for (const [, idx] of order) yield { index: idx[0]!, body: rangeRead(path, layers[idx[0]!]!.dataOffset, layers[idx[0]!]!.size, onRead) };
        return;
      }
      yield* sequentialLayers(path, format, wanted, onRead);
    },
  };
}

async function assertFile(path: string): Promise<void> {
  const st = await stat(path).catch((e: unknown) => {
    throw new ReleaseError('NOT_FOUND', `image artifact not found: ${path}`, { cause: e });
  });
  if (!st.isFile()) throw new ReleaseError('INVALID_INPUT', `image artifact ${path} is not a file`);
}

/** The layers as an image record lists them (without where they sit in the archive). */
export function layerRecords(layers: LayerSource[]): LayerRecord[] {
  return layers.map(({ digest, size, mediaType, diffId }) => ({ digest, size, mediaType, diffId }));
}

/** The digest a push would produce, without pushing: for reproducibility checks. Reads every byte. */
export async function computeImage(
  artifact: { path: string; format?: ArtifactFormat },
  opts: ReadOptions = {},
): Promise<{
  digest: string;
  mediaType: string;
  manifest: Uint8Array;
  config: Uint8Array;
  layers: LayerRecord[];
}> {
  const image = await readImageArtifact(artifact.path, artifact.format, opts);
  return {
    digest: image.digest,
    mediaType: image.mediaType,
    manifest: image.manifest,
    config: image.config,
    layers: layerRecords(image.layers),
  };
}
