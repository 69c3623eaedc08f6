import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTags, pushImage } from '../src/index.js';
import { isolateImageCache, tempDir } from './helpers.js';

// A release killed while writing an OCI layout leaves pieces of it behind; the
// next run must carry on, not refuse the directory or wait on a dead writer.
describe('an OCI layout left behind by a killed writer', () => {
  let root: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    root = await tempDir();
    isolateImageCache(root.dir);
  });
  afterAll(() => root.cleanup());
  let n = 0;
  const scratch = async () => {
    const dir = join(root.dir, `case-${n++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };

  async function archive(dir: string) {
    const path = join(dir, 'image.tar');
    await writeDockerArchive(path, { layers: [{ size: 1024 }, { size: 2048 }] });
    return { path };
  }

  it('accepts a directory holding only a half-made blob store and a temp file', async () => {
    const dir = await scratch();
    const layout = join(dir, 'layout');
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(layout, `oci-layout.${process.pid}.abcd1234.tmp`), '{"imageLayoutVersion"');
    const pushed = await pushImage(await archive(dir), `oci:${layout}:v1`);
    expect(await listTags(`oci:${layout}`)).toEqual(['v1']);
    expect(pushed.digest).toMatch(/^sha256:/);
  });

  it('still refuses a directory with files of its own', async () => {
    const dir = await scratch();
    const layout = join(dir, 'layout');
    await mkdir(layout, { recursive: true });
    await writeFile(join(layout, 'notes.txt'), 'mine');
    await expect(pushImage(await archive(dir), `oci:${layout}:v1`)).rejects.toThrow(/is not an OCI image layout/);
  });

  it('breaks at once a lock held by a process that is gone', async () => {
    const dir = await scratch();
    const layout = join(dir, 'layout');
    await pushImage(await archive(dir), `oci:${layout}:v1`);
    // A pid far above any pid_max names no running process.
    await writeFile(join(layout, 'index.json.lock'), `${hostname()} 999999999\n`);
    const started = Date.now();
    await pushImage(await archive(dir), `oci:${layout}:v2`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await listTags(`oci:${layout}`)).sort()).toEqual(['v1', 'v2']);
  });
});
