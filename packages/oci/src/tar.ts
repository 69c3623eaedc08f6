import { ReleaseError } from '@nixrel/core';

/**
 * A push parser for tar streams: feed it chunks, it reports entry headers and
 * data slices synchronously, and never buffers entry data. That lets one loop
 * hash a multi-GiB layer, or forward it to an upload, in constant memory, and
 * it knows the absolute offset of every entry's data (so an uncompressed
 * archive on disk can later be read back by byte range).
 */
export interface TarEntry {
  name: string;
  /** '0' regular file, '1' hard link, '2' symlink, '5' directory, ... */
  type: string;
  size: number;
  linkname: string;
  /** Offset of the entry's data in the uncompressed tar stream. */
  dataOffset: number;
}

export interface TarHandlers {
  entry(e: TarEntry): void;
  data(chunk: Uint8Array): void;
  entryEnd(e: TarEntry): void;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function cString(buf: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  return decoder.decode(buf.subarray(start, end));
}

function parseNumber(buf: Uint8Array, start: number, len: number, what: string, where: string): number {
  // GNU base-256 encoding for values that do not fit in octal.
  if ((buf[start]! & 0x80) !== 0) {
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const text = cString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ReleaseError('ARCHIVE_ERROR', `${where}: corrupt tar header (${what} "${text}")`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = Buffer.from(data).toString('utf8');
  let i = 0;
  while (i < text.length) {
    const space = text.indexOf(' ', i);
    if (space < 0) break;
    const len = Number.parseInt(text.slice(i, space), 10);
    if (!(len > 0)) break;
    const record = text.slice(space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

type State = 'header' | 'data' | 'padding' | 'meta' | 'done';

export class TarScanner {
  /** Bytes consumed so far (offset in the uncompressed stream). */
  position = 0;
  private state: State = 'header';
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private padding = 0;
  private current: TarEntry | undefined;
  private meta: { type: string; chunks: Uint8Array[] } | undefined;
  private pending: { path?: string; linkpath?: string; size?: number } = {};
  private zeroBlocks = 0;

  constructor(
    private readonly where: string,
    private readonly handlers: TarHandlers,
  ) {}

  get finished(): boolean {
    return this.state === 'done';
  }

  /** Bytes up to the next point where the scanner changes state: what a reader that can seek should read next. */
  get needed(): number {
    switch (this.state) {
      case 'header':
        return BLOCK - this.headerFill;
      case 'data':
      case 'meta':
        return this.remaining;
      case 'padding':
        return this.padding;
      default:
        return 0;
    }
  }

  /** True between an entry's header and the end of its data. */
  get inData(): boolean {
    return this.state === 'data';
  }

  /**
   * Skips the rest of the current entry's data and its padding, for a reader
   * that seeks over what it does not need (an archive on disk). Returns how
   * many bytes of the stream to skip; `entryEnd` is reported as usual.
   */
  skipData(): number {
    if (this.state !== 'data') throw new ReleaseError('INTERNAL', `${this.where}: skipData outside an entry's data`);
    const entry = this.current!;
    const skip = this.remaining + ((BLOCK - (entry.size % BLOCK)) % BLOCK);
    this.position += skip;
    this.remaining = 0;
    this.current = undefined;
    this.handlers.entryEnd(entry);
    this.state = 'header';
    return skip;
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'done':
          // Anything after the end-of-archive marker is record padding.
          this.position += chunk.length - i;
          return;
        case 'header': {
          const take = Math.min(BLOCK - this.headerFill, chunk.length - i);
          this.header.set(chunk.subarray(i, i + take), this.headerFill);
          this.headerFill += take;
          i += take;
          this.position += take;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeader();
          }
          break;
        }
        case 'data':
        case 'meta': {
          const take = Math.min(this.remaining, chunk.length - i);
          const slice = chunk.subarray(i, i + take);
          if (this.state === 'data') this.handlers.data(slice);
          else this.meta!.chunks.push(slice.slice());
          i += take;
          this.position += take;
          this.remaining -= take;
          if (this.remaining === 0) this.onDataEnd();
          break;
        }
        case 'padding': {
          const take = Math.min(this.padding, chunk.length - i);
          i += take;
          this.position += take;
          this.padding -= take;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The stream ended: anything but a complete archive is an error. */
  end(): void {
    if (this.state !== 'done') {
      throw new ReleaseError('ARCHIVE_ERROR', `${this.where}: truncated tar archive (ended at byte ${this.position} inside ${this.current ? `entry "${this.current.name}"` : 'the archive, before its end marker'})`);
    }
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.zeroBlocks++;
      // Two zero blocks end the archive; accept one, as GNU tar does.
      this.state = this.zeroBlocks >= 1 ? 'done' : 'header';
      return;
    }
    const offset = this.position - BLOCK;
    const stored = parseNumber(h, 148, 8, 'checksum', this.where);
    if (!checksumOk(h, stored)) {
      throw new ReleaseError('ARCHIVE_ERROR', `${this.where}: corrupt tar archive (bad header checksum at byte ${offset})`);
    }
    const type = String.fromCharCode(h[156]! || 0x30);
    let size = parseNumber(h, 124, 12, 'size', this.where);
    const magic = cString(h, 257, 6);
    let name = cString(h, 0, 100);
    if (magic === 'ustar' && h[263] === 0x30) {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let linkname = cString(h, 157, 100);

    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      this.meta = { type, chunks: [] };
      if (size > 1 << 20) throw new ReleaseError('ARCHIVE_ERROR', `${this.where}: tar metadata entry of ${size} bytes at byte ${offset} is too large`);
      this.remaining = size;
      this.state = 'meta';
      if (size === 0) this.onDataEnd();
      return;
    }
    if (this.pending.path !== undefined) name = this.pending.path;
    if (this.pending.linkpath !== undefined) linkname = this.pending.linkpath;
    if (this.pending.size !== undefined) size = this.pending.size;
    this.pending = {};
    // Directories and links carry no data whatever the header says.
    if (type === '5' || type === '1' || type === '2') size = 0;
    this.current = { name, type, size, linkname, dataOffset: this.position };
    this.handlers.entry(this.current);
    this.remaining = size;
    this.state = 'data';
    if (size === 0) this.onDataEnd();
  }

  private onDataEnd(): void {
    let size: number;
    if (this.state === 'meta') {
      const meta = this.meta!;
      this.meta = undefined;
      const data = Buffer.concat(meta.chunks);
      size = data.length;
      if (meta.type === 'x') {
        const pax = parsePax(data);
        if (pax.path !== undefined) this.pending.path = pax.path;
        if (pax.linkpath !== undefined) this.pending.linkpath = pax.linkpath;
        if (pax.size !== undefined) this.pending.size = Number(pax.size);
      } else if (meta.type === 'L') {
        this.pending.path = cString(data, 0, data.length);
      } else if (meta.type === 'K') {
        this.pending.linkpath = cString(data, 0, data.length);
      }
    } else {
      const entry = this.current!;
      size = entry.size;
      this.current = undefined;
      this.handlers.entryEnd(entry);
    }
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = this.padding > 0 ? 'padding' : 'header';
  }
}

/** Entry names must stay inside the archive: no absolute paths, no `..`. */
export function checkEntryName(name: string, where: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw new ReleaseError('ARCHIVE_ERROR', `${where}: unsafe tar entry "${name}" (absolute path)`);
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ReleaseError('ARCHIVE_ERROR', `${where}: unsafe tar entry "${name}" ('..' in path)`);
  return parts.join('/');
}
