import { join } from 'node:path';
import { createLogger, redact } from '@nixrel/core';
import { writeDockerArchive, writeStreamScript } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeImage } from '../src/archive.js';
import { addTags, listTags, pushImage, resolveImage } from '../src/index.js';
import { exec, isolateImageCache, listFiles, rejection, skopeoCreds, skopeoRawDigest, tempDir, writeAuthFile } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let archive: string;
let gz: string;
let stream: string;
let expected: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  isolateImageCache(dir);
  archive = (await writeDockerArchive(join(dir, 'img.tar'), { layers: [{ size: 2_000_000 }, { size: 500_000 }, { size: 3_000_000 }], seed: 'push' })).path;
  gz = (await writeDockerArchive(join(dir, 'img.tar.gz'), { layers: [{ size: 2_000_000 }, { size: 500_000 }, { size: 3_000_000 }], seed: 'push', gzip: true })).path;
  stream = await writeStreamScript(join(dir, 'stream.sh'), archive);
  expected = (await computeImage({ path: archive })).digest;
});
afterAll(() => cleanup());

describe.each(['none', 'htpasswd', 'token'] as const)('pushing to docker-registry (auth: %s)', (auth) => {
  let reg: RegistryHandle;
  let authFile: string | undefined;
  const env = { HOME: '/nonexistent' };
  beforeAll(async () => {
    reg = await startRegistry({ auth });
    if (reg.username) authFile = await writeAuthFile(dir, reg);
  });
  afterAll(() => reg.stop());

  it('pushes an image whose registry digest equals the computed one, and skopeo reads and copies it', async () => {
    const result = await pushImage({ path: archive }, `${reg.url}/nix/app:1.0`, { authFile, env, tags: ['latest'] });
    expect(result.digest).toBe(expected);
    expect(result.layerEncoding).toBe('uncompressed');
    expect(result.tags).toEqual(['1.0', 'latest']);
    expect(result.blobsSkipped).toBe(0);
    expect(result.bytesUploaded).toBe(result.layers.reduce((n, l) => n + l.size, 0) + (await computeImage({ path: archive })).config.length);
    expect(await skopeoRawDigest(reg, `${reg.url}/nix/app:1.0`)).toBe(expected);
    expect(await resolveImage(`${reg.url}/nix/app:latest`, { authFile, env })).toMatchObject({ digest: expected });
    expect(await listTags(`${reg.url}/nix/app`, { authFile, env })).toEqual(['1.0', 'latest']);

    const out = join(dir, `copied-${auth}`);
    await exec('skopeo', ['copy', '--preserve-digests', '--src-tls-verify=false', ...skopeoCreds(reg).map((c) => c.replace('--creds', '--src-creds')), `docker://${reg.url}/nix/app@${expected}`, `oci:${out}:copied`]);
    const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', out]);
    expect(stdout).toMatch(/Validation succeeded/);
    const copied = JSON.parse((await exec('cat', [join(out, 'index.json')])).stdout) as { manifests: { digest: string }[] };
    expect(copied.manifests[0]!.digest).toBe(expected);
  });

  it('uploads no layer bytes when the same artifact is pushed again, in any format', async () => {
    for (const path of [archive, gz, stream]) {
      const again = await pushImage({ path }, `${reg.url}/nix/app:1.0`, { authFile, env });
      expect(again.digest).toBe(expected);
      expect(again.bytesUploaded).toBe(0);
      expect(again.blobsSkipped).toBe(4);
    }
  });

  it('mounts blobs already pushed to another repository of the registry instead of uploading them', async () => {
    const other = await pushImage({ path: gz }, `${reg.url}/nix/other`, { authFile, env });
    expect(other.digest).toBe(expected);
    expect(other.bytesUploaded).toBe(0);
    expect(await skopeoRawDigest(reg, `${reg.url}/nix/other@${expected}`)).toBe(expected);
  });
});

describe('targets and tags (no auth)', () => {
  let reg: RegistryHandle;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg.stop());

  it('gives the same digest in an OCI layout as in the registry, and the layout validates', async () => {
    const layout = join(dir, 'layout');
    const local = await pushImage({ path: stream }, `oci:${layout}:v1`);
    const remote = await pushImage({ path: gz }, `${reg.url}/same/img:v1`);
    expect(local.digest).toBe(remote.digest);
    expect(local.digest).toBe(expected);
    const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', layout, '--ref', 'name=v1']);
    expect(stdout).toMatch(/Validation succeeded/);
    // skopeo copies the layout to the registry byte for byte: same digest again.
    await exec('skopeo', ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${reg.url}/same/copied:v1`]);
    expect(await skopeoRawDigest(reg, `${reg.url}/same/copied:v1`)).toBe(expected);
    const again = await pushImage({ path: archive }, `oci:${layout}:v1`);
    expect(again.bytesUploaded).toBe(0);
  });

  it('never moves a tag: another digest is a CONFLICT before anything is uploaded; the same digest is a no-op', async () => {
    const otherArchive = (await writeDockerArchive(join(dir, 'other.tar'), { layers: [{ size: 100_000 }], seed: 'other' })).path;
    await pushImage({ path: archive }, `${reg.url}/tags/app:stable`);
    const before = await listFiles(reg.storageDir);
    const e = await rejection(pushImage({ path: otherArchive }, `${reg.url}/tags/app:stable`));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('tags/app:stable');
    expect(await listFiles(reg.storageDir)).toEqual(before);
    expect(await skopeoRawDigest(reg, `${reg.url}/tags/app:stable`)).toBe(expected);

    await addTags(`${reg.url}/tags/app@${expected}`, ['stable', 'v2']);
    expect(await listTags(`${reg.url}/tags/app`)).toEqual(['stable', 'v2']);
    const other = await pushImage({ path: otherArchive }, `${reg.url}/tags/app`);
    const e2 = await rejection(addTags(`${reg.url}/tags/app@${other.digest}`, ['v2']));
    expect(e2.code).toBe('CONFLICT');
    const e3 = await rejection(addTags(`${reg.url}/tags/app:v3`, ['v4']));
    expect(e3.code).toBe('INVALID_INPUT');
  });

  it('writes nothing for bad archives, invalid references or an unusable layout directory', async () => {
    const bad = join(dir, 'bad.tar');
    await writeDockerArchive(bad, { layers: [{ size: 200_000 }], corruptLayer: 0 });
    const unsafe = join(dir, 'unsafe.tar');
    await writeDockerArchive(unsafe, { layers: [{ size: 1000 }], extraEntries: [{ name: '../x', data: 'x' }] });
    const catalog = await reg.catalog();
    const files = await listFiles(reg.storageDir);
    for (const [path, code] of [
      [bad, 'DIGEST_MISMATCH'],
      [unsafe, 'ARCHIVE_ERROR'],
    ] as const) {
      const e = await rejection(pushImage({ path }, `${reg.url}/bad/img:v1`));
      expect(e.code).toBe(code);
      expect(e.message).toContain(path);
      const layout = join(dir, `never-${code}`);
      expect((await rejection(pushImage({ path }, `oci:${layout}:v1`))).code).toBe(code);
      expect(await listFiles(layout)).toEqual([]);
    }
    const e = await rejection(pushImage({ path: archive }, `${reg.url}/Bad/Name:v1`));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('Bad/Name');
    const notLayout = join(dir, 'not-a-layout');
    await exec('mkdir', ['-p', notLayout]);
    await exec('touch', [join(notLayout, 'README')]);
    const e2 = await rejection(pushImage({ path: archive }, `oci:${notLayout}`));
    expect(e2.code).toBe('INVALID_INPUT');
    expect(await listFiles(notLayout)).toEqual(['README']);
    expect(await reg.catalog()).toEqual(catalog);
    expect(await listFiles(reg.storageDir)).toEqual(files);
  });

  it('fails with NETWORK_ERROR naming the host when the registry is unreachable', async () => {
    const e = await rejection(pushImage({ path: archive }, '127.0.0.1:1/nothing/here:v1', { retry: { attempts: 2, baseDelayMs: 10 } }));
    expect(e.code).toBe('NETWORK_ERROR');
    expect(e.message).toContain('127.0.0.1:1');
    expect(e.message).toMatch(/ECONNREFUSED/);
  });
});

describe('credentials', () => {
  it.each(['htpasswd', 'token'] as const)('refuses wrong credentials (%s) with AUTH_ERROR, never printing the secrets, writing nothing', async (auth) => {
    const reg = await startRegistry({ auth });
    try {
      const wrong = `wrong-${reg.password}`;
      const authFile = await writeAuthFile(dir, reg, wrong);
      const lines: string[] = [];
      const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
      const e = await rejection(pushImage({ path: archive }, `${reg.url}/secret/app:v1`, { authFile, logger, env: { HOME: '/nonexistent' } }));
      expect(e.code).toBe('AUTH_ERROR');
      expect(e.message).toContain(reg.url.split(':')[0]);
      expect(e.message).toContain(reg.username!);
      const everything = [e.message, ...lines].join('\n');
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(Buffer.from(`${reg.username}:${wrong}`).toString('base64'));
      // Registered secrets are masked wherever they would appear later.
      expect(redact(`password ${wrong}`)).not.toContain(wrong);
      expect(await reg.catalog()).toEqual([]);

      const none = await rejection(pushImage({ path: archive }, `${reg.url}/secret/app:v1`, { env: { HOME: '/nonexistent' } }));
      expect(none.code).toBe('AUTH_ERROR');
      expect(none.message).toMatch(/no credentials/);

      // The right password through DOCKER_CONFIG works, and the token never reaches a log line.
      const good = await writeAuthFile(dir, reg);
      const cfgDir = join(dir, `docker-${auth}`);
      await exec('mkdir', ['-p', cfgDir]);
      await exec('cp', [good, join(cfgDir, 'config.json')]);
      const ok = await pushImage({ path: archive }, `${reg.url}/secret/app:v1`, { logger, env: { DOCKER_CONFIG: cfgDir } });
      expect(ok.digest).toBe(expected);
      expect(lines.join('\n')).not.toContain(reg.password!);
      expect(lines.join('\n')).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\./);
      // The authenticated push is the one the log reports, by its digest.
      expect(lines.filter((l) => l.includes(`pushed ${reg.url}/secret/app@${expected}`))).toHaveLength(1);
    } finally {
      await reg.stop();
    }
  });
});
