import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { ArtifactFormat } from '@nixrel/core';
import { ReleaseError } from '@nixrel/core';
import { type TarEntry, TarScanner } from './tar.js';

/**
 * Every read of an image artifact's bytes goes through here: the whole
 * uncompressed tar as a stream (file, gunzip, or a stream script's stdout),
 * one byte range of an uncompressed file, or the wanted entries of one
 * sequential read. `onRead` counts what was read from the artifact (file
 * bytes, or the script's output), so a caller can tell how much work a push
 * did.
 */

export type OnRead = ((bytes: number) => void) | undefined;

export const CHUNK = 4 << 20;

/** The uncompressed tar bytes of an artifact; cleans up (kills the stream script) when abandoned. */
export async function* tarBytes(path: string, format: ArtifactFormat, onRead?: OnRead): AsyncGenerator<Uint8Array> {
  if (format === 'docker-archive') {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      onRead?.((chunk as Buffer).length);
      yield chunk as Uint8Array;
    }
    return;
  }
  if (format === 'docker-archive+gzip') {
    const file = createReadStream(path, { highWaterMark: CHUNK });
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    file.on('error', (e) => gunzip.destroy(e));
    if (onRead) file.on('data', (c) => onRead((c as Buffer).length));
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
    for await (const chunk of child.stdout) {
      onRead?.((chunk as Buffer).length);
      yield chunk as Uint8Array;
    }
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

/** `size` bytes at `start` of an uncompressed file; a short read means the file changed. */
export async function* rangeRead(path: string, start: number, size: number, onRead?: OnRead): AsyncGenerator<Uint8Array> {
  if (size === 0) return;
  let got = 0;
  try {
    for await (const chunk of createReadStream(path, { start, end: start + size - 1, highWaterMark: CHUNK })) {
      got += (chunk as Buffer).length;
      onRead?.((chunk as Buffer).length);
      yield chunk as Uint8Array;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ReleaseError('NOT_FOUND', `image artifact not found: ${path}`, { cause: e });
    throw e;
  }
  if (got !== size) throw new ReleaseError('ARCHIVE_ERROR', `${path}: changed while reading (short read at byte ${start + got})`);
}

/**
 * One sequential read of a non-seekable artifact (gzip, stream script),
 * handing out the bodies of the entries whose data starts at the wanted
 * offsets, in archive order. `wanted` maps a data offset to the layer indices
 * backed by it (the same bytes are handed out once).
 */
export async function* sequentialLayers(
  path: string,
  format: ArtifactFormat,
  wanted: Map<number, number[]>,
  onRead?: OnRead,
): AsyncGenerator<{ index: number; body: AsyncIterable<Uint8Array> }> {
  type Ev = { t: 'start'; e: TarEntry } | { t: 'data'; c: Uint8Array } | { t: 'end' };
  let queue: Ev[] = [];
  let head = 0;
  const scanner = new TarScanner(path, {
    entry: (e) => queue.push({ t: 'start', e }),
    data: (c) => queue.push({ t: 'data', c }),
    entryEnd: () => queue.push({ t: 'end' }),
  });
  const source = tarBytes(path, format, onRead);
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
