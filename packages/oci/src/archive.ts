import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { ArtifactFormat, LayerRecord } from '@nixrel/core';
import { ReleaseError, sha256Digest } from '@nixrel/core';
import { buildManifest, configDescriptor, type DockerConfig, layerDescriptor, toOciConfig } from './image.js';
import { OCI_LAYER_TAR, OCI_MANIFEST } from './media-types.js';
import { checkEntryName, type TarEntry, TarScanner } from './tar.js';

/**
 * Reading what Nix builds: dockerTools' docker-archive (plain or gzipped) and
 * streamLayeredImage's executable, whose stdout is the same tar. A
 * docker-archive may list its layers in manifest.json, written after the
 * layers, so reading is two passes: the first reads headers and small JSON
 * entries and hashes every layer (never buffering one); the second streams
 * only the layers a target lacks. An uncompressed archive on disk is read the
 * second time by byte range, so layers can be uploaded in parallel and retried
 * from disk.
 */

export interface LayerSource extends LayerRecord {
  /** Entry name inside the archive. */
  entry: string;
  /** Offset of the layer bytes in the uncompressed tar. */
  dataOffset: number;
}

export interface ImageLayout {
  path: string;
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
  /** True when layers can be read by byte range (uncompressed file). */
  seekable: boolean;
  /** A fresh read of one layer's bytes. */
  openLayer(index: number): AsyncIterable<Uint8Array>;
  /** One sequential read of the archive, yielding the given layers in archive order. */
  streamLayers(indices: number[]): AsyncGenerator<{ index: number; body: AsyncIterable<Uint8Array> }>;
}

const CHUNK = 4 << 20;
const MAX_JSON = 16 << 20;

/** Detects the artifact's format from its first bytes (and exec bit for scripts). */
export async function detectFormat(path: string): Promise<ArtifactFormat> {
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
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'docker-archive+gzip';
  if (n === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'docker-archive';
  const script = head.subarray(0, 2).toString('latin1') === '#!' || head.subarray(0, 4).toString('latin1') === '\x7fELF';
  if (script && (st.mode & 0o111) !== 0) return 'docker-stream';
  if (n === 0) throw new ReleaseError('ARCHIVE_ERROR', `image artifact ${path} is empty`);
  throw new ReleaseError('ARCHIVE_ERROR', `image artifact ${path} is neither a docker-archive (tar or tar.gz) nor an executable image stream`);
}

/** The uncompressed tar bytes of an artifact, as a stream; cleans up (kills the stream script) when abandoned. */
async function* tarBytes(path: string, format: ArtifactFormat): AsyncGenerator<Uint8Array> {
  if (format === 'docker-archive') {
    yield* createReadStream(path, { highWaterMark: CHUNK });
    return;
  }
  if (format === 'docker-archive+gzip') {
    const file = createReadStream(path, { highWaterMark: CHUNK });
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    file.on('error', (e) => gunzip.destroy(e));
    file.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Uint8Array;
    } catch (e) {
      throw new ReleaseError('ARCHIVE_ERROR', `${path}: corrupt or truncated gzip data (${(e as Error).message})`, { cause: e });
    } finally {
      file.destroy();
      gunzip.destroy();
    }
    return;
  }
  const child = spawn(path, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let complete = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Uint8Array;
    const code = await exited;
    if (spawnError) throw new ReleaseError('ARCHIVE_ERROR', `cannot run image stream ${path}: ${spawnError.message}`, { cause: spawnError });
    if (code !== 0) {
      throw new ReleaseError('ARCHIVE_ERROR', `image stream ${path} exited with status ${code}`, { details: stderr.trim() ? stderr.trim().split('\n') : [] });
    }
    complete = true;
  } finally {
    if (!complete && child.exitCode === null) child.kill('SIGKILL');
  }
}

interface ScannedEntry extends TarEntry {
  digest?: string;
  json?: Buffer;
  /** First bytes of the data, to recognise compressed layers. */
  magic?: Buffer;
}

/** Pass 1: every entry's header, small JSON bodies, and the sha256 of everything else. */
async function scanArchive(path: string, format: ArtifactFormat): Promise<Map<string, ScannedEntry>> {
  const entries = new Map<string, ScannedEntry>();
  let current: ScannedEntry | undefined;
  let hash: Hash | undefined;
  let json: Buffer[] | undefined;
  const scanner = new TarScanner(path, {
    entry(e) {
      const name = checkEntryName(e.name, path);
      current = { ...e, name };
      if (current.type === '0' || current.type === '7') {
        if (entries.has(name) && entries.get(name)!.type !== '5') {
          throw new ReleaseError('ARCHIVE_ERROR', `${path}: duplicate tar entry "${name}"`);
        }
        const small = e.size <= MAX_JSON && (name.endsWith('.json') || name === 'repositories');
        json = small ? [] : undefined;
        hash = small ? undefined : createHash('sha256');
      } else {
        hash = undefined;
        json = undefined;
      }
      entries.set(name, current);
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
  for await (const chunk of tarBytes(path, format)) scanner.write(chunk);
  scanner.end();
  return entries;
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

async function* rangeRead(path: string, start: number, size: number): AsyncGenerator<Uint8Array> {
  if (size === 0) return;
  let got = 0;
  for await (const chunk of createReadStream(path, { start, end: start + size - 1, highWaterMark: CHUNK })) {
    got += (chunk as Buffer).length;
    yield chunk as Uint8Array;
  }
  if (got !== size) throw new ReleaseError('ARCHIVE_ERROR', `${path}: changed while reading (short read at byte ${start + got})`);
}

/** Pass 2 on a non-seekable archive: one read, handing out the wanted entries' bodies in order. */
async function* sequentialLayers(
  path: string,
  format: ArtifactFormat,
  wanted: Map<number, number[]>,
): AsyncGenerator<{ index: number; body: AsyncIterable<Uint8Array> }> {
  type Ev = { t: 'start'; e: TarEntry } | { t: 'data'; c: Uint8Array } | { t: 'end' };
  let queue: Ev[] = [];
  let head = 0;
  const scanner = new TarScanner(path, {
    entry: (e) => queue.push({ t: 'start', e }),
    data: (c) => queue.push({ t: 'data', c }),
    entryEnd: () => queue.push({ t: 'end' }),
  });
  const source = tarBytes(path, format);
  let remaining = wanted.size;
  const next = async (): Promise<Ev | undefined> => {
    while (head === queue.length) {
      queue = [];
      head = 0;
      const r = await source.next();
      if (r.done) {
        scanner.end();
        return undefined;
      }
      scanner.write(r.value);
    }
    return queue[head++];
  };
  try {
    while (remaining > 0) {
      const ev = await next();
      if (!ev) break;
      if (ev.t !== 'start') continue;
      const indices = wanted.get(ev.e.dataOffset);
      if (!indices) continue;
      remaining--;
      let done = false;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        for (;;) {
          const d = await next();
          if (!d || d.t === 'end') {
            done = true;
            return;
          }
          if (d.t === 'data') yield d.c;
        }
      };
      // The same bytes may back several layer indices; hand them out once.
      yield { index: indices[0]!, body: body() };
      while (!done) {
        const d = await next();
        if (!d || d.t === 'end') done = true;
      }
    }
    if (remaining > 0) throw new ReleaseError('ARCHIVE_ERROR', `${path}: archive changed between reads (layers missing on the second read)`);
  } finally {
    await source.return(undefined);
  }
}

/**
 * Reads an image artifact (pass 1) and derives its OCI image: manifest,
 * config and uncompressed layers, with every layer checked against the
 * config's diff_ids.
 */
export async function readImageArtifact(path: string, format?: ArtifactFormat): Promise<ImageLayout> {
  const fmt = format ?? (await detectFormat(path));
  if (format) await assertFile(path);
  const entries = await scanArchive(path, fmt);
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
  const layers: LayerSource[] = layerNames.map((name, i) => {
    const e = resolveEntry(entries, name, path);
    if (e.type !== '0' && e.type !== '7') throw new ReleaseError('ARCHIVE_ERROR', `${path}: layer "${name}" is not a regular file`);
    const digest = e.digest ?? sha256Digest(e.json ?? new Uint8Array());
    if (digest !== diffIds[i]) {
      const compressed = e.magic && e.magic[0] === 0x1f && e.magic[1] === 0x8b;
      throw new ReleaseError(
        'DIGEST_MISMATCH',
        `${path}: layer ${i} "${name}" has sha256 ${digest} but the config's diff_id is ${diffIds[i]}${compressed ? ' (the layer is gzip-compressed; only uncompressed layers are supported)' : ''}`,
      );
    }
    return { entry: e.name, dataOffset: e.dataOffset, digest, diffId: digest, size: e.size, mediaType: OCI_LAYER_TAR };
  });
  const configDesc = configDescriptor(config);
  const manifest = buildManifest(
    configDesc,
    layers.map((l) => layerDescriptor(l.digest, l.size)),
  );
  const seekable = fmt === 'docker-archive';
  return {
    path,
    format: fmt,
    digest: sha256Digest(manifest),
    mediaType: OCI_MANIFEST,
    manifest,
    config,
    configDigest: configDesc.digest,
    layers,
    repoTags: Array.isArray(m.RepoTags) ? (m.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string') : [],
    seekable,
    openLayer(index) {
      const layer = layers[index];
      if (!layer) throw new ReleaseError('INTERNAL', `no layer ${index}`);
      if (seekable) return rangeRead(path, layer.dataOffset, layer.size);
      const it = sequentialLayers(path, fmt, new Map([[layer.dataOffset, [index]]]));
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
        for (const [, idx] of order) yield { index: idx[0]!, body: rangeRead(path, layers[idx[0]!]!.dataOffset, layers[idx[0]!]!.size) };
        return;
      }
      yield* sequentialLayers(path, fmt, wanted);
    },
  };
}

async function assertFile(path: string): Promise<void> {
  const st = await stat(path).catch((e: unknown) => {
    throw new ReleaseError('NOT_FOUND', `image artifact not found: ${path}`, { cause: e });
  });
  if (!st.isFile()) throw new ReleaseError('INVALID_INPUT', `image artifact ${path} is not a file`);
}

/** The digest a push would produce, without pushing: for reproducibility checks. */
export async function computeImage(artifact: { path: string; format?: ArtifactFormat }): Promise<{
  digest: string;
  mediaType: string;
  manifest: Uint8Array;
  config: Uint8Array;
  layers: LayerRecord[];
}> {
  const image = await readImageArtifact(artifact.path, artifact.format);
  return {
    digest: image.digest,
    mediaType: image.mediaType,
    manifest: image.manifest,
    config: image.config,
    layers: image.layers.map(({ digest, size, mediaType, diffId }) => ({ digest, size, mediaType, diffId })),
  };
}
