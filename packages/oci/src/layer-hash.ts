import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ReleaseError } from '@nixrel/core';
import { rangeRead } from './archive-stream.js';

/**
 * sha256 of byte ranges of a file (the layers of an uncompressed archive on
 * disk). Hashing is what a first read of an archive spends its time on, and
 * it runs at ~1-1.7 GB/s on one core; ranges are independent, so large
 * archives are hashed by a small pool of worker threads, largest range first,
 * one per core. Small ones are hashed in this thread: starting workers would
 * cost more than it saves.
 */

export interface ByteRange {
  offset: number;
  size: number;
}

export interface RangeHash {
  digest: string;
  /** First bytes of the range, to recognise compressed layers in error messages. */
  magic: Buffer;
}

export interface HashOptions {
  onRead?: (bytes: number) => void;
  /** Hash large sets of ranges on worker threads (default true); false hashes in this thread. */
  parallel?: boolean;
}

/** Below this many bytes in total, worker start-up outweighs parallel hashing. */
const PARALLEL_MIN_BYTES = 64 << 20;
const READ_CHUNK = 1 << 20;

// The worker is plain CommonJS given as source text: it then runs the same way
// under tsx, vitest and the compiled package, without a loader.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(${READ_CHUNK});
parentPort.on('message', ({ id, path, offset, size }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const h = createHash('sha256');
    let magic;
    let pos = offset;
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), pos);
      if (n === 0) throw new Error('changed while reading (short read at byte ' + pos + ')');
      if (magic === undefined) magic = Buffer.from(buf.subarray(0, Math.min(n, 4)));
      h.update(buf.subarray(0, n));
      pos += n;
      left -= n;
    }
    parentPort.postMessage({ id, digest: 'sha256:' + h.digest('hex'), magic: magic ?? Buffer.alloc(0) });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Task {
  id: number;
  path: string;
  offset: number;
  size: number;
  resolve: (h: RangeHash) => void;
  reject: (e: Error) => void;
}

/**
 * A process-wide pool, so concurrent pushes share the cores instead of each
 * starting its own threads. Workers end when there is nothing left to hash,
 * and are unref'd while idle: they never keep the process alive.
 */
class HashPool {
  private queue: Task[] = [];
  private idle: Worker[] = [];
  private busy = new Map<Worker, Task>();
  private nextId = 0;

  constructor(private readonly size: number) {}

  hash(path: string, offset: number, size: number): Promise<RangeHash> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, path, offset, size, resolve, reject });
      // Largest first: the longest range bounds the wall time.
      this.queue.sort((a, b) => b.size - a.size);
      this.dispatch();
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    w.on('message', (m: { id: number; digest?: string; magic?: Uint8Array; error?: string }) => {
      const task = this.busy.get(w);
      this.busy.delete(w);
      w.unref();
      this.idle.push(w);
      if (task) {
        if (m.error !== undefined) task.reject(new ReleaseError('ARCHIVE_ERROR', `${task.path}: ${m.error}`));
        else task.resolve({ digest: m.digest!, magic: Buffer.from(m.magic ?? []) });
      }
      this.dispatch();
    });
    const lost = (e: Error) => {
      const task = this.busy.get(w);
      this.busy.delete(w);
      this.idle = this.idle.filter((x) => x !== w);
      task?.reject(new ReleaseError('INTERNAL', `hashing ${task.path}: worker failed: ${e.message}`, { cause: e }));
      this.dispatch();
    };
    w.on('error', lost);
    w.on('exit', (code) => {
      if (this.busy.has(w)) lost(new Error(`exited with ${code}`));
    });
    return w;
  }

  private dispatch(): void {
    if (this.queue.length === 0 && this.busy.size === 0) {
      // Done for now: a worker holds tens of MiB, which a push's upload can use better.
      for (const w of this.idle.splice(0)) void w.terminate();
      return;
    }
    while (this.queue.length > 0) {
      let w = this.idle.pop();
      if (!w && this.busy.size < this.size) w = this.spawn();
      if (!w) return;
      const task = this.queue.shift()!;
      this.busy.set(w, task);
      w.ref();
      w.postMessage({ id: task.id, path: task.path, offset: task.offset, size: task.size });
    }
  }
}

let pool: HashPool | undefined;

async function hashHere(path: string, range: ByteRange, onRead?: (bytes: number) => void): Promise<RangeHash> {
  const h = createHash('sha256');
  let magic: Buffer | undefined;
  for await (const chunk of rangeRead(path, range.offset, range.size, onRead)) {
    magic ??= Buffer.from(chunk.subarray(0, 4));
    h.update(chunk);
  }
  return { digest: `sha256:${h.digest('hex')}`, magic: magic ?? Buffer.alloc(0) };
}

/** The sha256 of each range of `path`, in the order given. */
export async function hashRanges(path: string, ranges: ByteRange[], opts: HashOptions = {}): Promise<RangeHash[]> {
  const total = ranges.reduce((n, r) => n + r.size, 0);
  const threads = Math.min(4, availableParallelism());
  if (opts.parallel === false || threads < 2 || ranges.length < 2 || total < PARALLEL_MIN_BYTES) {
    const out: RangeHash[] = [];
    for (const r of ranges) out.push(await hashHere(path, r, opts.onRead));
    return out;
  }
  pool ??= new HashPool(threads);
  return Promise.all(
    ranges.map(async (r) => {
      const h = await pool!.hash(path, r.offset, r.size);
      opts.onRead?.(r.size);
      return h;
    }),
  );
}
