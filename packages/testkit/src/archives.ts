import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';

/**
 * Writes docker-archives shaped like the ones nixpkgs' dockerTools produces
 * (`<sha256>/layer.tar` entries, `<sha256>.json` config, manifest.json; layer
 * entries with absolute `/nix/store/...` names), deterministically from a
 * seed, in constant memory, plus deliberately broken variants for tests.
 */

export interface LayerFile {
  name: string;
  data: string | Uint8Array;
  /** '0' file (default), '2' symlink (data is the target), '5' directory. */
  type?: '0' | '2' | '5';
}

/** A layer of generated content of about `size` bytes, or of the given files. */
export type LayerSpec = { size: number } | { files: LayerFile[] };

export interface ArchiveOptions {
  layers: LayerSpec[];
  gzip?: boolean;
  /** Put manifest.json and the config before the layers (nixpkgs writes them last). */
  manifestFirst?: boolean;
  /** Content seed: same seed, same bytes. */
  seed?: string;
  /** Extra fields merged into the config's `config` object (Env, Cmd...). */
  runtimeConfig?: Record<string, unknown>;
  /** Extra top-level entries of the archive (e.g. unsafe names). */
  extraEntries?: { name: string; data: string | Uint8Array; type?: '0' | '2' | '5' }[];
  /** Flip one byte in this layer's bytes while keeping the config's diff_id. */
  corruptLayer?: number;
  /** Share of generated file content that is incompressible (default 0.5). */
  randomShare?: number;
}

export interface ArchiveInfo {
  path: string;
  diffIds: string[];
  layerSizes: number[];
  /** Archive size in bytes as written (compressed size when gzip). */
  bytes: number;
}

const BLOCK = 512;
const RECORD = 10240;
const FILE_SIZE = 4 << 20;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0');
}

/** A ustar header; names up to 255 bytes via the prefix field. */
export function tarHeader(name: string, size: number, type = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(1, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'binary');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\u0000`, 148, 'binary');
  return h;
}

const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

/** Deterministic bytes: AES-CTR keystream for the random share, a repeating text pattern for the rest. */
function* contentChunks(seed: string, size: number, randomShare: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(1 << 16);
  const text = Buffer.from(`/nix/store/${seed} lib bin share doc `.repeat(2048)).subarray(0, 1 << 16);
  let left = size;
  let i = 0;
  while (left > 0) {
    const n = Math.min(left, 1 << 16);
    const random = (i * 0.618034) % 1 < randomShare;
    yield random ? cipher.update(zero.subarray(0, n)) : text.subarray(0, n);
    left -= n;
    i++;
  }
}

interface PlannedFile {
  name: string;
  type: string;
  size: number;
  linkname: string;
  data?: Uint8Array;
  seed?: string;
}

function planLayer(spec: LayerSpec, index: number, seed: string): PlannedFile[] {
  if ('files' in spec) {
    return spec.files.map((f) => {
      const type = f.type ?? '0';
      const data = typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
      return type === '0' ? { name: f.name, type, size: data.length, linkname: '', data } : { name: f.name, type, size: 0, linkname: type === '2' ? String(f.data) : '' };
    });
  }
  const hash = createHash('sha256').update(`${seed}/${index}`).digest('hex').slice(0, 32);
  const dir = `/nix/store/${hash}-pkg-${index}`;
  const files: PlannedFile[] = [{ name: `${dir}/`, type: '5', size: 0, linkname: '' }];
  // Sizes are rounded so the whole layer tar is close to the requested size.
  let left = Math.max(0, spec.size - 2 * BLOCK - 1024);
  let j = 0;
  while (left > 0 || j === 0) {
    const size = Math.max(0, Math.min(FILE_SIZE, left - BLOCK));
    files.push({ name: `${dir}/lib/file-${j}.so`, type: '0', size, linkname: '', seed: `${seed}/${index}/${j}` });
    left -= size + BLOCK + pad(size);
    j++;
  }
  return files;
}

function layerTarSize(files: PlannedFile[]): number {
  let n = 0;
  for (const f of files) n += BLOCK + f.size + pad(f.size);
  n += 2 * BLOCK;
  return n + ((RECORD - (n % RECORD)) % RECORD);
}

function* layerTar(files: PlannedFile[], randomShare: number): Generator<Uint8Array> {
  let n = 0;
  for (const f of files) {
    yield tarHeader(f.name, f.size, f.type, f.linkname);
    if (f.data) yield f.data;
    else if (f.seed) yield* contentChunks(f.seed, f.size, randomShare);
    const p = pad(f.size);
    if (p) yield Buffer.alloc(p);
    n += BLOCK + f.size + p;
  }
  n += 2 * BLOCK;
  yield Buffer.alloc(2 * BLOCK + ((RECORD - (n % RECORD)) % RECORD));
}

function* corrupted(chunks: Iterable<Uint8Array>, at: number): Generator<Uint8Array> {
  let pos = 0;
  for (const c of chunks) {
    if (at >= pos && at < pos + c.length) {
      const copy = Buffer.from(c);
      copy[at - pos] = copy[at - pos]! ^ 0xff;
      yield copy;
    } else yield c;
    pos += c.length;
  }
}

async function write(out: Writable, chunk: Uint8Array): Promise<void> {
  if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

export async function writeDockerArchive(path: string, opts: ArchiveOptions): Promise<ArchiveInfo> {
  const seed = opts.seed ?? 'nixrel';
  const randomShare = opts.randomShare ?? 0.5;
  const planned = opts.layers.map((l, i) => planLayer(l, i, seed));
  const layerSizes = planned.map(layerTarSize);
  // First pass: the layer digests, which name the entries and fill the config.
  const diffIds = planned.map((files) => {
    const h = createHash('sha256');
    for (const c of layerTar(files, randomShare)) h.update(c);
    return `sha256:${h.digest('hex')}`;
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:01Z',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], ...opts.runtimeConfig },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created: '1970-01-01T00:00:01Z', created_by: 'nix', comment: 'store paths' })),
    }),
  );
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const layerNames = diffIds.map((d) => `${d.slice(7)}/layer.tar`);
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['image:latest'], Layers: layerNames }]));

  const file = createWriteStream(path);
  const gzip = opts.gzip ? createGzip({ level: 1 }) : undefined;
  if (gzip) gzip.pipe(file);
  const out: Writable = gzip ?? file;
  let total = 0;
  const put = async (c: Uint8Array) => {
    total += c.length;
    await write(out, c);
  };
  const putFile = async (name: string, data: Uint8Array, type = '0') => {
    await put(tarHeader(name, type === '0' ? data.length : 0, type, type === '2' ? Buffer.from(data).toString() : ''));
    if (type === '0') {
      await put(data);
      if (pad(data.length)) await put(Buffer.alloc(pad(data.length)));
    }
  };
  const meta = async () => {
    await putFile('manifest.json', manifest);
    await putFile(configName, config);
  };
  for (const e of opts.extraEntries ?? []) await putFile(e.name, typeof e.data === 'string' ? Buffer.from(e.data) : e.data, e.type ?? '0');
  if (opts.manifestFirst) await meta();
  for (const [i, files] of planned.entries()) {
    await put(tarHeader(layerNames[i]!, layerSizes[i]!));
    let chunks: Iterable<Uint8Array> = layerTar(files, randomShare);
    if (opts.corruptLayer === i) chunks = corrupted(chunks, Math.floor(layerSizes[i]! / 2));
    for (const c of chunks) await put(c);
  }
  if (!opts.manifestFirst) await meta();
  await put(Buffer.alloc(2 * BLOCK + ((RECORD - ((total + 2 * BLOCK) % RECORD)) % RECORD)));
  out.end();
  await new Promise<void>((resolve, reject) => {
    file.on('close', resolve);
    file.on('error', reject);
  });
  return { path, diffIds, layerSizes, bytes: file.bytesWritten };
}

/** A stand-in for streamLayeredImage's output: an executable that writes the archive to stdout. */
export async function writeStreamScript(scriptPath: string, archivePath: string): Promise<string> {
  const quoted = `'${archivePath.replaceAll("'", "'\\''")}'`;
  await writeFile(scriptPath, `#!/bin/sh\nexec cat ${quoted}\n`);
  await chmod(scriptPath, 0o755);
  return scriptPath;
}
