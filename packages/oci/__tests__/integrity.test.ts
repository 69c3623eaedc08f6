import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { describe, expect, it } from 'vitest';
import { computeImage } from '../src/archive.js';
import { checkImageBlobs, pushImage } from '../src/index.js';
import { exec, listFiles, registryAndArchive, rejection } from './helpers.js';

const fx = registryAndArchive('integrity', [{ size: 300_000 }, { size: 40_000 }]);

const flipMiddleByte = async (path: string) => {
  const bytes = await readFile(path);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
  await writeFile(path, bytes);
};

describe('integrity of what was published, on resume', () => {
  it('OCI layout: a deleted layer, a config damaged at the same size and a damaged manifest are found, written again, and found whole', async () => {
    const layout = join(fx.dir, 'layout');
    const first = await pushImage({ path: fx.archive }, `oci:${layout}:v1`);
    expect((await checkImageBlobs(`oci:${layout}`, first.digest)).ok).toBe(true);
    const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));

    await rm(blob(first.layers[0]!.digest));
    await flipMiddleByte(blob(first.configDigest));
    const check = await checkImageBlobs(`oci:${layout}`, first.digest);
    expect(check.ok).toBe(false);
    expect(check.checked).toBe(4);
    expect(check.problems.map((p) => `${p.role} ${p.problem}`).sort()).toEqual(['config corrupt', 'layer missing']);

    const again = await pushImage({ path: fx.archive }, `oci:${layout}:v1`);
    expect(again.digest).toBe(first.digest);
    expect(again.bytesUploaded).toBe(first.layers[0]!.size + (await readFile(blob(first.configDigest))).length);
    expect((await checkImageBlobs(`oci:${layout}`, first.digest)).ok).toBe(true);

    await flipMiddleByte(blob(first.digest));
    expect((await checkImageBlobs(`oci:${layout}`, first.digest)).problems).toMatchObject([{ role: 'manifest', problem: 'corrupt' }]);
    await pushImage({ path: fx.archive }, `oci:${layout}:v1`);
    expect((await checkImageBlobs(`oci:${layout}`, first.digest)).ok).toBe(true);
    const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', layout, '--ref', 'name=v1']);
    expect(stdout).toMatch(/Validation succeeded/);
  });

  it('registry: a layer whose stored data was deleted is found missing and uploaded again', async () => {
    const first = await pushImage({ path: fx.archive }, `${fx.reg.url}/integrity/del:v1`);
    const data = join(fx.reg.storageDir, 'docker/registry/v2/blobs/sha256', first.layers[1]!.digest.slice(7, 9), first.layers[1]!.digest.slice(7), 'data');
    await rm(data);
    const check = await checkImageBlobs(`${fx.reg.url}/integrity/del`, first.digest);
    expect(check.problems).toMatchObject([{ role: 'layer', digest: first.layers[1]!.digest, problem: 'missing' }]);
    const again = await pushImage({ path: fx.archive }, `${fx.reg.url}/integrity/del:v1`);
    expect(again.bytesUploaded).toBe(first.layers[1]!.size);
    expect((await checkImageBlobs(`${fx.reg.url}/integrity/del`, first.digest, { full: true })).ok).toBe(true);
  });

  it('registry: a layer damaged at the same size is found by a full check, and a verifying push repairs it or says who must', async () => {
    const first = await pushImage({ path: fx.archive }, `${fx.reg.url}/integrity/bad:v1`);
    const d = first.layers[0]!.digest;
    const data = join(fx.reg.storageDir, 'docker/registry/v2/blobs/sha256', d.slice(7, 9), d.slice(7), 'data');
    await flipMiddleByte(data);
    // A HEAD cannot see it; reading it back can.
    expect((await checkImageBlobs(`${fx.reg.url}/integrity/bad`, first.digest)).ok).toBe(true);
    const full = await checkImageBlobs(`${fx.reg.url}/integrity/bad`, first.digest, { full: true });
    expect(full.problems).toMatchObject([{ role: 'layer', digest: d, problem: 'corrupt' }]);
    // distribution v2 keeps a blob's stored data when the blob is deleted from a repository and uploaded
    // again (only garbage collection removes it): the push says so instead of reporting success.
    const e = await rejection(pushImage({ path: fx.archive }, `${fx.reg.url}/integrity/bad:v1`, { verifyBlobs: true }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toContain(`still holds a damaged copy of blob ${d}`);
    expect(e.message).toMatch(/operator must remove it/);
    // Once the operator removed the damaged data, the same push completes and the image reads back whole.
    await rm(data);
    const repaired = await pushImage({ path: fx.archive }, `${fx.reg.url}/integrity/bad:v1`, { verifyBlobs: true });
    expect(repaired.bytesUploaded).toBe(first.layers[0]!.size);
    expect((await checkImageBlobs(`${fx.reg.url}/integrity/bad`, first.digest, { full: true })).ok).toBe(true);
  });

  it('registry, large archive uploaded while it is hashed: a layer unlike its diff_id commits no blob, manifest or tag, and a good one pushes whole', async () => {
    const layers = [{ size: 72 << 20 }, { size: 1 << 20 }];
    const bad = (await writeDockerArchive(join(fx.dir, 'big-bad.tar'), { layers, seed: 'big', corruptLayer: 1 })).path;
    const good = (await writeDockerArchive(join(fx.dir, 'big-good.tar'), { layers, seed: 'big' })).path;
    // Files older than the image cache's racy window: layers are then not hashed a second time while uploaded.
    await new Promise((r) => setTimeout(r, 2100));
    const catalog = await fx.reg.catalog();
    const e = await rejection(pushImage({ path: bad }, `${fx.reg.url}/integrity/big:v1`));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toContain(bad);
    expect(e.message).toMatch(/layer 1 .* diff_id/);
    expect(await fx.reg.catalog()).toEqual(catalog);
    const repo = join(fx.reg.storageDir, 'docker/registry/v2/repositories/integrity/big');
    // No blob, manifest or tag was committed; only unfinished upload sessions, which registries expire.
    expect((await listFiles(repo)).filter((f) => !f.startsWith('_uploads'))).toEqual([]);

    const expected = (await computeImage({ path: good })).digest;
    const pushed = await pushImage({ path: good }, `${fx.reg.url}/integrity/big:v1`);
    expect(pushed.digest).toBe(expected);
    expect((await checkImageBlobs(`${fx.reg.url}/integrity/big`, expected, { full: true })).ok).toBe(true);
  }, 120_000);
});
