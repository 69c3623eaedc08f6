import { join } from 'node:path';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeImage } from '../src/archive.js';
import { hashRanges } from '../src/layer-hash.js';
import { rejection, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('hashing the layers of an archive on disk', () => {
  it('gives the same image on worker threads as in one thread, for an archive large enough to use them', async () => {
    // 72 MB of layers: above the size from which hashing goes to worker threads.
    const info = await writeDockerArchive(join(dir, 'big.tar'), { layers: [{ size: 40_000_000 }, { size: 30_000_000 }, { size: 2_000_000 }], seed: 'big' });
    const here = await computeImage({ path: info.path }, { parallelHash: false });
    let read = 0;
    const parallel = await computeImage({ path: info.path }, { onRead: (n) => (read += n) });
    expect(parallel).toEqual(here);
    expect(parallel.layers.map((l) => l.diffId)).toEqual(info.diffIds);
    expect(read).toBeGreaterThanOrEqual(72_000_000);
  });

  it('fails with ARCHIVE_ERROR naming the file when it is shorter than the ranges (changed while reading)', async () => {
    const small = await writeDockerArchive(join(dir, 'small.tar'), { layers: [{ size: 100_000 }], seed: 'small' });
    for (const parallel of [true, false]) {
      const e = await rejection(
        hashRanges(
          small.path,
          [
            { offset: 0, size: 40 << 20 },
            { offset: 1024, size: 40 << 20 },
          ],
          { parallel },
        ),
      );
      expect(e.code).toBe('ARCHIVE_ERROR');
      expect(e.message).toContain(small.path);
      expect(e.message).toMatch(/changed while reading/);
    }
  });
});
