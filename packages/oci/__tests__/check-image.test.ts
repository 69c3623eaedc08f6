import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImageBlobs, pushImage } from '../src/index.js';
import { isolateImageCache, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let archive: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  isolateImageCache(dir);
  archive = (await writeDockerArchive(join(dir, 'img.tar'), { layers: [{ size: 300_000 }, { size: 200_000 }], seed: 'check' })).path;
});
afterAll(() => cleanup());

/** Flips one byte in the middle of a file: same size, other content. */
async function corrupt(path: string): Promise<() => Promise<void>> {
  const original = await readFile(path);
  const changed = Buffer.from(original);
  changed[Math.floor(changed.length / 2)]! ^= 0xff;
  await writeFile(path, changed);
  return () => writeFile(path, original);
}

describe('checkImageBlobs in an OCI layout', () => {
  it('passes a sound image, and names each missing or corrupt blob', async () => {
    const layout = join(dir, 'layout');
    const image = await pushImage({ path: archive }, `oci:${layout}:v1`);
    const ref = `oci:${layout}@${image.digest}`;
    const sound = await checkImageBlobs(ref);
    expect(sound.problems).toEqual([]);
    expect(sound.layers.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));

    const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const restore = await corrupt(blob(image.layers[1]!.digest));
    await rm(blob(image.configDigest));
    const { problems } = await checkImageBlobs(ref);
    await restore();
    expect(problems).toEqual([
      `config ${image.configDigest} is missing from oci:${layout}`,
      expect.stringMatching(new RegExp(`^layer 1 ${image.layers[1]!.digest} hashes to sha256:[0-9a-f]{64} \\(${image.layers[1]!.size} bytes; the manifest says ${image.layers[1]!.size}\\)$`)),
    ]);
  });
});

describe('checkImageBlobs in docker-registry', () => {
  let reg: RegistryHandle;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg.stop());

  it('streams every layer through the hash, and names the one served with other bytes', async () => {
    const image = await pushImage({ path: archive }, `${reg.url}/check/app:v1`);
    const ref = `${reg.url}/check/app@${image.digest}`;
    expect((await checkImageBlobs(ref)).problems).toEqual([]);
    const layer = image.layers[0]!;
    const data = join(reg.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7), 'data');
    const restore = await corrupt(data);
    const { problems } = await checkImageBlobs(ref);
    await restore();
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^layer 0 ${layer.digest} hashes to sha256:[0-9a-f]{64} \\(${layer.size} bytes`))]);
    await expect(checkImageBlobs(`${reg.url}/check/app@sha256:${'0'.repeat(64)}`)).resolves.toMatchObject({ problems: [`manifest sha256:${'0'.repeat(64)} is missing from ${reg.url}/check/app`] });
  });
});
