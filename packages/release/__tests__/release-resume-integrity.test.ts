import { generateKeyPairSync } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkImageBlobs } from '@nixrel/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRepo } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

/**
 * A re-run trusts an earlier publish only while the image is whole in the
 * target: blobs deleted or damaged (at the same size) since are found, written
 * again, and found whole.
 */
describe('resuming a release whose published blobs were damaged', () => {
  let repo: string;
  let cleanup: () => Promise<void>;
  let key: string;

  beforeAll(async () => {
    ({ dir: repo, cleanup } = await scratchRepo({ git: true }));
    key = join(repo, '..', `${repo.split('/').pop()}-key.pem`);
    await writeFile(key, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  });
  afterAll(async () => {
    await cleanup();
    await rm(key, { force: true });
  });

  it('publishes the damaged images again and ends with every image whole', async () => {
    const release = () => runCliProcess(['release', '--collection', 'example', '--key', key], { cwd: repo, env: releaseEnv() });
    const first = await release();
    expect(first.code, first.stderr).toBe(0);
    const manifest = await readManifest(join(repo, /manifest: (\S+)/.exec(first.stdout)![1]!));
    const byName = (name: string) => manifest.images.find((i) => i.name === name)!;
    const layout = (name: string) => join(repo, '.release', 'oci', name);
    const blob = (name: string, digest: string) => join(layout(name), 'blobs', 'sha256', digest.slice(7));

    const hello = byName('hello');
    const greeter = byName('greeter');
    await rm(blob('hello', hello.layers![0]!.digest));
    const config = await readFile(blob('greeter', greeter.configDigest!));
    config[config.length >> 1] = config[config.length >> 1]! ^ 0x01;
    await writeFile(blob('greeter', greeter.configDigest!), config);
    expect((await checkImageBlobs(`oci:${layout('hello')}`, hello.digest!)).ok).toBe(false);
    expect((await checkImageBlobs(`oci:${layout('greeter')}`, greeter.digest!)).ok).toBe(false);

    const again = await release();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/hello@sha256:[a-f0-9]{64} is no longer whole, publishing it again: layer sha256:[a-f0-9]{64}: missing/);
    expect(again.stderr).toMatch(/greeter@sha256:[a-f0-9]{64} is no longer whole, publishing it again: config sha256:[a-f0-9]{64}: corrupt/);
    for (const image of manifest.images) expect((await checkImageBlobs(`oci:${layout(image.name)}`, image.digest!)).ok, image.name).toBe(true);
  }, 600_000);
});
