/**
 * The audit pack: one `<version>.audit.tar.gz` holding everything needed to
 * verify a release offline (release.json and its schema, every SBOM,
 * provenance statement and bundle, the trusted root that signing used, the
 * public key of a key-signed release, the page, a README) plus SHA256SUMS.
 *
 * Its bytes are a function of the release alone: entries sorted by path, plain
 * ustar headers with fixed mode, owner and mtime (the release date), gzip with
 * no timestamp or name. Reading treats the archive as hostile: its compressed
 * and expanded sizes, entry count and names are bounded and validated, and
 * only regular files are accepted.
 */
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RELEASE_MANIFEST_SCHEMA_PATH, ReleaseError, sha256Hex } from '@nixrel/core';
import { checkEntryName, type TarEntry, TarScanner } from '@nixrel/oci';

export interface PackFile {
  path: string;
  data: Buffer;
}

/** Names inside a pack. */
export const PACK = {
  manifest: 'release.json',
  schema: 'release-manifest.schema.json',
  trustedRoot: 'trusted_root.json',
  readme: 'README.md',
  sums: 'SHA256SUMS',
  pageDir: 'page',
} as const;

export const PACK_LIMITS = {
  compressedBytes: 256 << 20,
  expandedBytes: 512 << 20,
  entries: 10_000,
};

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header; long paths go into the prefix field (split at a slash). */
function header(path: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = path;
  let prefix = '';
  if (Buffer.byteLength(path) > 100) {
    const cut = path.lastIndexOf('/', path.length - 1);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new ReleaseError('INVALID_INPUT', `path ${path} is too long for the audit pack`);
    }
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.fill(0x20, 148, 156);
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** `<hex>  <path>` per file, sorted: `sha256sum -c SHA256SUMS` checks an extracted pack. */
export function packSums(files: PackFile[]): string {
  return files
    .map((f) => `${sha256Hex(f.data)}  ${f.path}\n`)
    .sort()
    .join('');
}

/** A gzipped tar of exactly these files: sorted by path, fixed metadata, gzip without a timestamp. */
export function tarGz(files: PackFile[], mtime: number): Buffer {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const f of sorted) {
    if (seen.has(f.path)) throw new ReleaseError('INVALID_INPUT', `the audit pack would hold ${f.path} twice`);
    seen.add(f.path);
    parts.push(header(f.path, f.data.length, mtime), f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  // Node's gzip header carries mtime 0 and no file name.
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** The pack's bytes: the files and their SHA256SUMS. */
export function buildPack(files: PackFile[], mtime: number): Buffer {
  return tarGz([...files, { path: PACK.sums, data: Buffer.from(packSums(files)) }], mtime);
}

/** Reads a pack's files, refusing anything but a bounded archive of regular files with safe, unique names. */
export async function readPack(path: string, limits = PACK_LIMITS): Promise<Map<string, Buffer>> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `audit pack ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (size > limits.compressedBytes) throw new ReleaseError('ARCHIVE_ERROR', `audit pack ${path} is ${size} bytes; at most ${limits.compressedBytes} are read`);
  let tar: Buffer;
  try {
    tar = gunzipSync(await readFile(path), { maxOutputLength: limits.expandedBytes });
  } catch (e) {
    const tooBig = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
    throw new ReleaseError('ARCHIVE_ERROR', tooBig ? `audit pack ${path} expands beyond ${limits.expandedBytes} bytes` : `audit pack ${path} is not gzip: ${(e as Error).message}`);
  }
  const files = new Map<string, Buffer>();
  let current: { name: string; chunks: Buffer[] } | undefined;
  const scanner = new TarScanner(`audit pack ${path}`, {
    entry(e: TarEntry) {
      if (e.type !== '0' && e.type !== '7') throw new ReleaseError('ARCHIVE_ERROR', `audit pack ${path}: entry "${e.name}" is not a regular file (type ${e.type})`);
      const name = checkEntryName(e.name, `audit pack ${path}`);
      if (files.has(name) || current?.name === name) throw new ReleaseError('ARCHIVE_ERROR', `audit pack ${path} holds "${name}" twice`);
      if (files.size >= limits.entries) throw new ReleaseError('ARCHIVE_ERROR', `audit pack ${path} holds more than ${limits.entries} files`);
      current = { name, chunks: [] };
    },
    data(chunk) {
      current?.chunks.push(Buffer.from(chunk));
    },
    entryEnd() {
      if (current) files.set(current.name, Buffer.concat(current.chunks));
      current = undefined;
    },
  });
  scanner.write(tar);
  scanner.end();
  return files;
}

/** Problems of a pack's files against its SHA256SUMS: a changed, added or removed file, each named. */
export function packIndexProblems(files: Map<string, Buffer>): string[] {
  const sums = files.get(PACK.sums);
  if (!sums) return [`the pack has no ${PACK.sums}`];
  const listed = new Map<string, string>();
  const problems: string[] = [];
  for (const line of sums.toString('utf8').split('\n')) {
    if (line === '') continue;
    const m = /^([a-f0-9]{64}) {2}(.+)$/.exec(line);
    if (!m) {
      problems.push(`${PACK.sums} has a malformed line: ${JSON.stringify(line.slice(0, 120))}`);
      continue;
    }
    listed.set(m[2]!, m[1]!);
  }
  for (const [name, data] of files) {
    if (name === PACK.sums) continue;
    const want = listed.get(name);
    if (want === undefined) problems.push(`${name} is in the pack but not in ${PACK.sums}`);
    else if (want !== sha256Hex(data)) problems.push(`${name} was changed: it hashes to sha256:${sha256Hex(data)}, ${PACK.sums} lists sha256:${want}`);
  }
  for (const name of listed.keys()) if (!files.has(name)) problems.push(`${name} is listed in ${PACK.sums} but missing from the pack`);
  return problems;
}

/** The schema this verifier validates release.json with, to compare with the pack's copy. */
export function ownManifestSchema(): Promise<Buffer> {
  return readFile(RELEASE_MANIFEST_SCHEMA_PATH);
}
