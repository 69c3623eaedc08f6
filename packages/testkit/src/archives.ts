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

/**
 * Hostile variants of a valid docker-archive, for the reader's robustness
 * tests: truncations, corrupted header fields (size, checksum, type, name,
 * prefix) with the checksum fixed up so the corruption itself is what the
 * reader meets, extended headers (PAX, GNU long names) with bad values, link
 * tricks, metadata bombs and corrupted gzip. Every variant is one a reader
 * must refuse with an error.
 */
export interface HostileArchive {
  name: string;
  path: string;
}

/** A header block with a fresh checksum, after `edit` changed it. */
function rechecksum(h: Buffer): Buffer {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\u0000`, 148, 'binary');
  return h;
}

function setType(h: Buffer, type: string, linkname = ''): void {
  h.write(type, 156, 'latin1');
  h.fill(0, 157, 257).write(linkname, 157, 'latin1');
}

/** Offsets of the headers of a plain tar (not following extended headers) and of its end marker. */
export function tarHeaderOffsets(tar: Buffer): { headers: number[]; end: number } {
  const headers: number[] = [];
  let pos = 0;
  while (pos + BLOCK <= tar.length) {
    const h = tar.subarray(pos, pos + BLOCK);
    if (h.every((b) => b === 0)) return { headers, end: pos };
    headers.push(pos);
    const size = Number.parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    pos += BLOCK + size + pad(size);
  }
  return { headers, end: pos };
}

/** A tar of raw entries (no docker-archive shape): for extended headers and link tricks. */
export function rawTar(entries: { name: string; type?: string; data?: Uint8Array | string; linkname?: string; size?: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data ?? []);
    parts.push(tarHeader(e.name, e.size ?? data.length, e.type ?? '0', e.linkname ?? ''), data, Buffer.alloc(pad(data.length)));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** The docker-archive entries of a small valid image, as raw entries, so tricks can be spliced in. */
function imageEntries(layerTar: Buffer): { config: string; manifest: (layers: string[], config?: string) => string; layer: string } {
  const diffId = `sha256:${createHash('sha256').update(layerTar).digest('hex')}`;
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } });
  return {
    config,
    layer: `${diffId.slice(7)}/layer.tar`,
    manifest: (layers, configName = 'config.json') => JSON.stringify([{ Config: configName, RepoTags: ['x:y'], Layers: layers }]),
  };
}

export async function writeHostileArchives(dir: string): Promise<HostileArchive[]> {
  const out: HostileArchive[] = [];
  let n = 0;
  const { gzipSync } = await import('node:zlib');
  const add = async (name: string, bytes: Uint8Array) => {
    const path = `${dir}/hostile-${String(n++).padStart(3, '0')}.tar`;
    await writeFile(path, bytes);
    out.push({ name, path });
  };
  // The same bytes gzipped take the other read path (one sequential pass instead of seeking).
  const addBoth = async (name: string, bytes: Uint8Array) => {
    await add(name, bytes);
    await add(`${name} (gzip)`, gzipSync(bytes, { level: 1 }));
  };
  const basePath = `${dir}/hostile-base.tar`;
  await writeDockerArchive(basePath, { layers: [{ size: 4096 }, { size: 20_000 }, { files: [{ name: '/etc/os-release', data: 'ID=nixos\n' }] }], seed: 'hostile' });
  const { readFile } = await import('node:fs/promises');
  const base = await readFile(basePath);
  const { headers, end } = tarHeaderOffsets(base);

  // Truncations: anywhere before the end marker is complete.
  for (let i = 0; i < 24; i++) {
    const at = Math.floor(((end + BLOCK) * i) / 24);
    await add(`truncated at byte ${at}`, base.subarray(0, at));
  }
  for (const h of headers) for (const d of [1, 256, 511]) await add(`truncated inside header at ${h}+${d}`, base.subarray(0, h + d));

  // Header fields, checksum fixed up so the reader meets the bad value itself.
  const sizeEdits: [string, (h: Buffer) => void][] = [
    ['negative base-256 size', (h) => h.fill(0xff, 124, 136)],
    ['huge base-256 size', (h) => h.fill(0xff, 125, 136).fill(0x80, 124, 125)],
    ['non-numeric size', (h) => h.write('12x4567\u0000\u0000\u0000\u0000\u0000', 124, 'latin1')],
    ['largest octal size', (h) => h.write('77777777777\u0000', 124, 'latin1')],
    ['size with a minus sign', (h) => h.write('-0000001000\u0000', 124, 'latin1')],
    ['size in decimal with 8s and 9s', (h) => h.write('00000009999\u0000', 124, 'latin1')],
  ];
  const field = (h: Buffer) => Number.parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
  for (const delta of [1, -1, 512, -512, 4096]) {
    sizeEdits.push([`size ${delta > 0 ? '+' : ''}${delta}`, (h) => h.write(`${octal(Math.max(0, field(h) + delta), 12)}\u0000`, 124, 'latin1')]);
  }
  const edits: [string, (h: Buffer) => void, boolean][] = [
    ...sizeEdits.map(([name, edit]) => [name, edit, true] as [string, (h: Buffer) => void, boolean]),
    ['bad checksum', (h) => h.fill(h[148] === 0x31 ? 0x32 : 0x31, 148, 149), false],
    ['non-numeric checksum', (h) => h.write('zzzzzz\u0000 ', 148, 'latin1'), false],
    ['empty checksum', (h) => h.fill(0, 148, 156), false],
    ['type directory', (h) => setType(h, '5'), true],
    ['type symlink to itself', (h) => setType(h, '2', h.subarray(0, 100).toString('latin1').replace(/\0.*$/, '')), true],
    ['type hard link to a missing entry', (h) => setType(h, '1', 'missing/entry'), true],
    ['type PAX header', (h) => setType(h, 'x'), true],
    ['type GNU long name', (h) => setType(h, 'L'), true],
    ['type character device', (h) => setType(h, '3'), true],
    ['name escaping with ..', (h) => h.fill(0, 0, 100).write('../../escape', 0, 'latin1'), true],
    ['absolute name', (h) => h.fill(0, 0, 100).write('/etc/passwd', 0, 'latin1'), true],
    ['empty name', (h) => h.fill(0, 0, 100), true],
    ['name of the first entry', (h) => base.copy(h, 0, headers[0]!, headers[0]! + 100), true],
    ['prefix escaping with ..', (h) => h.write('../..', 345, 'latin1'), true],
  ];
  for (const [i, h] of headers.entries()) {
    for (const [name, edit, fix] of edits) {
      if (name === 'name of the first entry' && i === 0) continue;
      const copy = Buffer.from(base);
      const header = copy.subarray(h, h + BLOCK);
      edit(header);
      if (fix) rechecksum(header);
      await (name.includes('size') ? addBoth : add)(`header ${i}: ${name}`, copy);
    }
  }

  // Layer bytes that do not match the config.
  for (const [i, h] of headers.slice(0, 3).entries()) {
    const copy = Buffer.from(base);
    copy[h + BLOCK + 700] = copy[h + BLOCK + 700]! ^ 0x01;
    await add(`layer ${i}: one byte flipped`, copy);
  }

  // Extended headers with bad values, in front of a valid image's first entry.
  const layerTar = rawTar([{ name: 'etc/hostname', data: 'x\n' }]);
  const img = imageEntries(layerTar);
  const good = (layers = [img.layer]) => [
    { name: img.layer, data: layerTar },
    { name: 'config.json', data: img.config },
    { name: 'manifest.json', data: img.manifest(layers) },
  ];
  const pax = (records: string, type = 'x') => ({ name: 'PaxHeaders/x', type, data: records });
  const paxCases: [string, string, string?][] = [
    ['PAX size negative', paxRecord('size', '-5')],
    ['PAX size rewinding to its own header', paxRecord('size', '-1536')],
    ['PAX size in exponent notation', paxRecord('size', '1e9')],
    ['PAX size beyond 2^53', paxRecord('size', '99999999999999999999')],
    ['PAX size not a number', paxRecord('size', 'abc')],
    ['PAX size larger than the archive', paxRecord('size', String(1 << 30))],
    ['PAX length field of zero', '0 size=5\n'],
    ['PAX length field past the data', '999 path=a\n'],
    ['PAX record without newline', '12 path=abc'],
    ['PAX record without =', '9 pathab\n'],
    ['PAX length not a number', 'xx path=a\n'],
    ['PAX path with a NUL byte', paxRecord('path', 'a\u0000b')],
    ['PAX path escaping with ..', paxRecord('path', '../../etc/x')],
    ['PAX path absolute', paxRecord('path', '/etc/shadow')],
    ['PAX path of 5000 bytes', paxRecord('path', 'a/'.repeat(2500))],
    ['PAX linkpath escaping', paxRecord('linkpath', '../../../etc/passwd')],
    ['global PAX header larger than allowed', 'x'.repeat(70_000), 'g'],
    ['PAX header larger than allowed', paxRecord('comment', 'y'.repeat(70_000))],
  ];
  // A negative size that rewinds the reader onto the PAX header itself: a loop for a reader that trusts it.
  await addBoth('PAX size rewinding a FIFO entry to its own header', rawTar([pax(paxRecord('size', '-1536')), { name: 'fifo', type: '6' }, ...good()]));
  await addBoth('PAX size rewinding an entry of unknown type', rawTar([pax(paxRecord('size', '-1536')), { name: 'odd', type: 'Z' }, ...good()]));
  for (const [name, records, type] of paxCases) {
    const [layer, config, manifest] = good();
    // A PAX linkpath applies to the config, made a symlink; anything else to the first layer.
    const list = name.includes('linkpath')
      ? [layer!, pax(records, type), { name: 'config.json', type: '2', linkname: 'real.json' }, manifest!]
      : [pax(records, type), layer!, config!, manifest!];
    await addBoth(name, rawTar(list));
  }
  const gnu: [string, { name: string; type?: string; data?: string; size?: number }[]][] = [
    ['GNU long name of 5000 bytes', [{ name: '././@LongLink', type: 'L', data: 'b/'.repeat(2500) }]],
    ['GNU long name escaping with ..', [{ name: '././@LongLink', type: 'L', data: '../../outside' }]],
    ['GNU long name claiming 10 MiB', [{ name: '././@LongLink', type: 'L', size: 10 << 20 }]],
  ];
  for (const [name, prefix] of gnu) await addBoth(name, rawTar([...prefix, ...good()]));
  {
    const [layer, , manifest] = good();
    await add('GNU long link name escaping', rawTar([layer!, { name: '././@LongLink', type: 'K', data: '../../../../etc/passwd' }, { name: 'config.json', type: '2', linkname: 'real.json' }, manifest!]));
  }

  // Link tricks: the manifest names links that loop, escape or lead nowhere useful.
  const linkCases: [string, { name: string; type?: string; data?: Uint8Array | string; linkname?: string }[], string[]][] = [
    ['symlink loop', [{ name: 'a', type: '2', linkname: 'b' }, { name: 'b', type: '2', linkname: 'a' }], ['a']],
    ['symlink escaping the archive', [{ name: 'a', type: '2', linkname: '../../etc/passwd' }], ['a']],
    ['absolute symlink', [{ name: 'a', type: '2', linkname: '/etc/passwd' }], ['a']],
    ['hard link to a missing entry', [{ name: 'a', type: '1', linkname: 'nowhere' }], ['a']],
    ['layer that is a directory', [{ name: 'd', type: '5' }], ['d']],
    ['symlink to a directory', [{ name: 'd', type: '5' }, { name: 'a', type: '2', linkname: 'd' }], ['a']],
    ['chain of 20 symlinks', Array.from({ length: 20 }, (_, i) => ({ name: `l${i}`, type: '2', linkname: i === 19 ? img.layer : `l${i + 1}` })), ['l0']],
    ['layer missing from the archive', [], ['missing/layer.tar']],
    ['layer named with ..', [], ['../layer.tar']],
  ];
  for (const [name, links, layers] of linkCases) {
    const [layer, config] = good();
    await add(name, rawTar([layer!, config!, ...links, { name: 'manifest.json', data: img.manifest(layers) }]));
  }

  // Metadata bombs: compress to little, would expand to a lot if buffered.
  const gz = gzipSync;
  // Concatenated gzip members (readers must accept them): one compressed body serves every entry of a size.
  const bodies = new Map<number, Buffer>();
  const bomb = (entries: { name: string; size: number }[]) =>
    Buffer.concat([
      ...entries.flatMap((e) => {
        if (!bodies.has(e.size)) bodies.set(e.size, gz(Buffer.alloc(e.size + pad(e.size), 0x20), { level: 1 }));
        return [gz(tarHeader(e.name, e.size)), bodies.get(e.size)!];
      }),
      gz(Buffer.alloc(2 * BLOCK)),
    ]);
  await add('24 metadata entries of 16 MiB each', bomb(Array.from({ length: 24 }, (_, i) => ({ name: `m${i}.json`, size: 16 << 20 }))));
  await add('one metadata entry of 9 MiB', bomb([{ name: 'manifest.json', size: 9 << 20 }]));
  await add('six metadata entries of 7 MiB', bomb(Array.from({ length: 6 }, (_, i) => ({ name: `c${i}.json`, size: 7 << 20 }))));
  await add('40 small metadata entries', bomb(Array.from({ length: 40 }, (_, i) => ({ name: `s${i}.json`, size: 10 }))));
  await add('20000 empty entries', bomb(Array.from({ length: 20_000 }, (_, i) => ({ name: `e${i}`, size: 0 }))));
  await add('manifest.json that is not JSON', rawTar([...good().slice(0, 2), { name: 'manifest.json', data: '[{"Config":' }]));
  await add('manifest.json listing two images', rawTar([...good().slice(0, 2), { name: 'manifest.json', data: `[${img.manifest([img.layer]).slice(1, -1)},${img.manifest([img.layer]).slice(1, -1)}]` }]));
  await add('config claiming another layer count', rawTar([...good().slice(0, 2), { name: 'manifest.json', data: img.manifest([img.layer, img.layer]) }]));

  // Corrupt gzip: cut short, or a flipped byte in the compressed data or trailer.
  const gzBase = gz(base);
  for (let i = 1; i <= 8; i++) await add(`gzip truncated at ${i}/9`, gzBase.subarray(0, Math.floor((gzBase.length * i) / 9)));
  for (let i = 1; i <= 8; i++) {
    const copy = Buffer.from(gzBase);
    const at = 10 + Math.floor(((copy.length - 18) * i) / 9);
    copy[at] = copy[at]! ^ 0x5a;
    await add(`gzip byte ${at} flipped`, copy);
  }
  for (const at of [gzBase.length - 8, gzBase.length - 2]) {
    const copy = Buffer.from(gzBase);
    copy[at] = copy[at]! ^ 0xff;
    await add(`gzip trailer byte ${at} flipped`, copy);
  }
  return out;
}
