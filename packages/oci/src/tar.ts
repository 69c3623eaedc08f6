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

/** Limits on what a header can make the reader hold: names and extended-header records. */
export const TAR_LIMITS = {
  /** Longest entry or link name, in bytes (Linux PATH_MAX is 4096). */
  nameBytes: 4096,
  /** Largest PAX or GNU long-name entry. */
  metaBytes: 64 << 10,
};

function cString(buf: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  return decoder.decode(buf.subarray(start, end));
}

/**
 * A numeric header field: octal text (NUL/space padded), or GNU base-256
 * for values that do not fit. Negative, non-numeric and values beyond what
 * a double holds exactly are refused: such a header is corrupt or hostile.
 * Returns a reason string instead of a number when the field is bad.
 */
function parseNumber(buf: Uint8Array, start: number, len: number): number | string {
  const first = buf[start]!;
  if (first === 0xff) return 'negative base-256 value';
  if (first === 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) {
      v = v * 256 + buf[i]!;
      if (v > Number.MAX_SAFE_INTEGER) return 'base-256 value too large';
    }
    return v;
  }
  let text = '';
  for (let i = start; i < start + len; i++) {
    const b = buf[i]!;
    if (b === 0) break;
    text += String.fromCharCode(b);
  }
  text = text.trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return `not an octal number: "${text.replace(/[^\x20-\x7e]/g, '?')}"`;
  const v = Number.parseInt(text, 8);
  return Number.isSafeInteger(v) ? v : 'value too large';
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

/** PAX records, `<decimal length> <key>=<value>\n`, lengths counted in bytes; a reason string when malformed. */
function parsePax(data: Uint8Array): Record<string, string> | string {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    // Padding NULs after the last record are tolerated.
    if (data[i] === 0) break;
    let j = i;
    while (j < data.length && j - i < 12 && data[j]! >= 0x30 && data[j]! <= 0x39) j++;
    if (j === i || data[j] !== 0x20) return `bad record length at offset ${i}`;
    const len = Number(decoder.decode(data.subarray(i, j)));
    if (len < j - i + 3 || i + len > data.length || data[i + len - 1] !== 0x0a) return `record at offset ${i} has a bad length (${len})`;
    const record = data.subarray(j + 1, i + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) return `record at offset ${i} has no key=value`;
    out[decoder.decode(record.subarray(0, eq))] = decoder.decode(record.subarray(eq + 1));
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
  private meta: { type: string; offset: number; chunks: Uint8Array[] } | undefined;
  private pending: { path?: string; linkpath?: string; size?: number } = {};

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
      const before = i;
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
      // Every step consumes input: a header that could stall the reader is a bug, never a hang.
      if (i <= before && !this.finished) throw new ReleaseError('INTERNAL', `${this.where}: tar reader made no progress at byte ${this.position}`);
    }
  }

  /** The stream ended: anything but a complete archive is an error. */
  end(): void {
    if (this.state !== 'done') {
      throw new ReleaseError('ARCHIVE_ERROR', `${this.where}: truncated tar archive (ended at byte ${this.position} inside ${this.current ? `entry "${this.current.name}"` : 'the archive, before its end marker'})`);
    }
  }

  private corrupt(offset: number, name: string, why: string): ReleaseError {
    return new ReleaseError('ARCHIVE_ERROR', `${this.where}: corrupt tar header at byte ${offset}${name ? ` (entry "${name}")` : ''}: ${why}`);
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      // Two zero blocks end the archive; accept one, as GNU tar does.
      this.state = 'done';
      return;
    }
    const offset = this.position - BLOCK;
    let name = cString(h, 0, 100);
    const stored = parseNumber(h, 148, 8);
    if (typeof stored === 'string') throw this.corrupt(offset, name, `checksum field ${stored}`);
    if (!checksumOk(h, stored)) throw this.corrupt(offset, name, 'bad header checksum');
    const type = String.fromCharCode(h[156]! || 0x30);
    const headerSize = parseNumber(h, 124, 12);
    if (typeof headerSize === 'string') throw this.corrupt(offset, name, `size field ${headerSize}`);
    let size = headerSize;
    const magic = cString(h, 257, 6);
    if (magic === 'ustar' && h[263] === 0x30) {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let linkname = cString(h, 157, 100);

    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > TAR_LIMITS.metaBytes) throw this.corrupt(offset, name, `extended header of ${size} bytes (at most ${TAR_LIMITS.metaBytes} allowed)`);
      this.meta = { type, offset, chunks: [] };
      this.remaining = size;
      this.state = 'meta';
      if (size === 0) this.onDataEnd();
      return;
    }
    const pending = this.pending;
    this.pending = {};
    if (pending.path !== undefined) name = pending.path;
    if (pending.linkpath !== undefined) linkname = pending.linkpath;
    if (pending.size !== undefined) size = pending.size;
    if (name === '') throw this.corrupt(offset, name, 'empty entry name');
    if (Buffer.byteLength(name) > TAR_LIMITS.nameBytes || Buffer.byteLength(linkname) > TAR_LIMITS.nameBytes) {
      throw this.corrupt(offset, name.slice(0, 200), `name longer than ${TAR_LIMITS.nameBytes} bytes`);
    }
    // Links, devices, directories and FIFOs carry no data whatever the header says.
    if ('123456'.includes(type)) size = 0;
    if (this.position + size > Number.MAX_SAFE_INTEGER) throw this.corrupt(offset, name, `size ${size} runs past any possible archive`);
    this.current = { name, type, size, linkname, dataOffset: this.position };
    this.handlers.entry(this.current);
    this.remaining = size;
    this.state = 'data';
    if (size === 0) this.onDataEnd();
  }

  private applyMeta(meta: { type: string; offset: number; chunks: Uint8Array[] }): number {
    const data = Buffer.concat(meta.chunks);
    if (meta.type === 'x' || meta.type === 'g') {
      const pax = parsePax(data);
      if (typeof pax === 'string') throw this.corrupt(meta.offset, '', `malformed PAX header: ${pax}`);
      // Global headers ('g') set defaults for the rest of the archive; none of their keys matter here.
      if (meta.type === 'x') {
        if (pax.path !== undefined) this.pending.path = pax.path;
        if (pax.linkpath !== undefined) this.pending.linkpath = pax.linkpath;
        if (pax.size !== undefined) {
          const size = /^\d{1,16}$/.test(pax.size) ? Number(pax.size) : Number.NaN;
          if (!Number.isSafeInteger(size)) throw this.corrupt(meta.offset, pax.path ?? '', `PAX size "${pax.size.slice(0, 40)}" is not a byte count`);
          this.pending.size = size;
        }
      }
    } else {
      const text = cString(data, 0, data.length);
      if (meta.type === 'L') this.pending.path = text;
      else this.pending.linkpath = text;
    }
    for (const value of [this.pending.path, this.pending.linkpath]) {
      if (value?.includes('\0')) throw this.corrupt(meta.offset, '', 'NUL byte in an extended name');
    }
    return data.length;
  }

  private onDataEnd(): void {
    let size: number;
    if (this.state === 'meta') {
      const meta = this.meta!;
      this.meta = undefined;
      size = this.applyMeta(meta);
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
