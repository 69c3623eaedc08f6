import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDockerArchive, writeStreamScript } from '@nixrel/testkit/archives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeImage, detectFormat, readImageArtifact } from '../src/archive.js';
import { canonicalJson, toOciConfig } from '../src/image.js';
import { OCI_LAYER_TAR, OCI_MANIFEST } from '../src/media-types.js';
import { parseImageRef } from '../src/refs.js';
import { exec, rejection, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const layers = [{ size: 300_000 }, { size: 1_200_000 }, { files: [{ name: '/etc/os-release', data: 'ID=nixos\n' }] }];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('reading Nix image artifacts', () => {
  it('gives the same OCI digest for the tar, the tar.gz, either entry order, and the stream script', async () => {
    const plain = await writeDockerArchive(join(dir, 'img.tar'), { layers });
    await writeDockerArchive(join(dir, 'img.tar.gz'), { layers, gzip: true });
    await writeDockerArchive(join(dir, 'first.tar'), { layers, manifestFirst: true });
    const script = await writeStreamScript(join(dir, 'stream.sh'), plain.path);

    expect(await detectFormat(plain.path)).toBe('docker-archive');
    expect(await detectFormat(join(dir, 'img.tar.gz'))).toBe('docker-archive+gzip');
    expect(await detectFormat(script)).toBe('docker-stream');

    const digests = new Set<string>();
    for (const path of [plain.path, join(dir, 'img.tar.gz'), join(dir, 'first.tar'), script]) {
      const image = await computeImage({ path });
      digests.add(image.digest);
      expect(image.mediaType).toBe(OCI_MANIFEST);
      expect(image.layers.map((l) => l.diffId)).toEqual(plain.diffIds);
      expect(image.layers.every((l) => l.mediaType === OCI_LAYER_TAR && l.digest === l.diffId)).toBe(true);
    }
    expect(digests.size).toBe(1);
  });

  it('yields layer bytes that hash to their digests, by range and by sequential stream', async () => {
    const { createHash } = await import('node:crypto');
    for (const path of [join(dir, 'img.tar'), join(dir, 'img.tar.gz'), join(dir, 'stream.sh')]) {
      const image = await readImageArtifact(path);
      const h = createHash('sha256');
      for await (const c of image.openLayer(1)) h.update(c);
      expect(`sha256:${h.digest('hex')}`).toBe(image.layers[1]!.digest);
      const seen: number[] = [];
      for await (const { index, body } of image.streamLayers([0, 2])) {
        const hh = createHash('sha256');
        for await (const c of body) hh.update(c);
        expect(`sha256:${hh.digest('hex')}`).toBe(image.layers[index]!.digest);
        seen.push(index);
      }
      expect(seen).toEqual([0, 2]);
    }
  });

  it('derives the OCI config deterministically, whatever the key order of the docker config', () => {
    const a = { os: 'linux', architecture: 'amd64', config: { Env: ['A=1'], Cmd: ['/bin/sh'], Volumes: null }, rootfs: { type: 'layers', diff_ids: ['sha256:00'] }, container_config: { x: 1 } };
    const b = { container_config: { x: 2 }, rootfs: { diff_ids: ['sha256:00'], type: 'layers' }, config: { Cmd: ['/bin/sh'], Env: ['A=1'] }, architecture: 'amd64', os: 'linux' };
    const ca = new TextDecoder().decode(toOciConfig(a, 'a'));
    expect(ca).toBe(new TextDecoder().decode(toOciConfig(b, 'b')));
    expect(JSON.parse(ca)).not.toHaveProperty('container_config');
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });
});

describe('rejecting bad archives', () => {
  it('rejects a truncated archive', async () => {
    const path = join(dir, 'trunc.tar');
    await copyFile(join(dir, 'img.tar'), path);
    await truncate(path, 700_000);
    const e = await rejection(computeImage({ path }));
    expect(e.code).toBe('ARCHIVE_ERROR');
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/truncated/);
  });

  it('rejects a truncated gzip archive', async () => {
    const path = join(dir, 'trunc.tar.gz');
    const bytes = await readFile(join(dir, 'img.tar.gz'));
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const e = await rejection(computeImage({ path }));
    expect(e.code).toBe('ARCHIVE_ERROR');
    expect(e.message).toContain(path);
  });

  it('rejects a corrupt tar header', async () => {
    const path = join(dir, 'corrupt.tar');
    const bytes = await readFile(join(dir, 'img.tar'));
    bytes[20] = 0x41; // inside the first entry's name: the header checksum no longer matches
    await writeFile(path, bytes);
    const e = await rejection(computeImage({ path }));
    expect(e.code).toBe('ARCHIVE_ERROR');
    expect(e.message).toMatch(/checksum/);
  });

  it('rejects a layer whose content does not match its diff_id', async () => {
    const path = join(dir, 'tampered.tar');
    await writeDockerArchive(path, { layers, corruptLayer: 1 });
    const e = await rejection(computeImage({ path }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toMatch(/layer 1 .* diff_id/);
  });

  it.each([
    ['..', '../../etc/evil'],
    ['absolute', '/etc/evil'],
  ])('rejects an archive entry with a %s path', async (_kind, name) => {
    const path = join(dir, `unsafe-${_kind}.tar`);
    await writeDockerArchive(path, { layers, extraEntries: [{ name, data: 'x' }] });
    const e = await rejection(computeImage({ path }));
    expect(e.code).toBe('ARCHIVE_ERROR');
    expect(e.message).toContain(`unsafe tar entry "${name}"`);
  });

  it('rejects a stream script that fails, and files that are no image at all', async () => {
    const failing = join(dir, 'fail.sh');
    await writeFile(failing, '#!/bin/sh\necho boom >&2\nexit 3\n', { mode: 0o755 });
    const e1 = await rejection(computeImage({ path: failing }));
    expect(e1.code).toBe('ARCHIVE_ERROR');
    expect(e1.message).toMatch(/exited with status 3/);

    const text = join(dir, 'notes.txt');
    await writeFile(text, 'hello');
    const e2 = await rejection(computeImage({ path: text }));
    expect(e2.code).toBe('ARCHIVE_ERROR');
    expect(e2.message).toContain(text);

    const e3 = await rejection(computeImage({ path: join(dir, 'missing.tar') }));
    expect(e3.code).toBe('NOT_FOUND');
  });
});

describe('parseImageRef', () => {
  it('parses registry and layout references', () => {
    expect(parseImageRef('127.0.0.1:5000/a/b:v1')).toMatchObject({ kind: 'registry', registry: '127.0.0.1:5000', repository: 'a/b', tag: 'v1' });
    expect(parseImageRef(`ghcr.io/o/r@sha256:${'a'.repeat(64)}`)).toMatchObject({ repository: 'o/r', digest: `sha256:${'a'.repeat(64)}` });
    expect(parseImageRef('oci:/tmp/x:v2')).toMatchObject({ kind: 'layout', dir: '/tmp/x', tag: 'v2' });
    expect(parseImageRef('oci:./out')).toMatchObject({ kind: 'layout', dir: './out' });
  });

  it.each(['postgres', 'postgres:16', 'ghcr.io/Upper/x', 'ghcr.io/x@sha256:abc', 'host:99/x:bad tag', 'oci:', ''])('rejects "%s"', (ref) => {
    let err: { code?: string; message?: string } = {};
    try {
      parseImageRef(ref);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(`"${ref}"`);
  });
});

describe('extended tar headers written by GNU tar', () => {
  // Entry and link names too long for ustar (a 120-byte component fits neither
  // the name field nor the prefix): GNU tar writes them as GNU long-name
  // entries ('L', 'K') in its gnu format and as PAX records in its pax format.
  const long = `${'d'.repeat(120)}/${'e'.repeat(110)}`;
  it.each(['gnu', 'pax'])('reads a docker-archive whose entries have long names (--format=%s)', async (format) => {
    const root = join(dir, `gnutar-${format}`);
    const layerDir = join(root, 'layer-src');
    await exec('mkdir', ['-p', join(layerDir, 'etc'), join(root, 'img', long)]);
    await writeFile(join(layerDir, 'etc', 'hostname'), 'nix\n');
    const layerPath = join(root, 'img', long, 'layer.tar');
    await exec('tar', ['--format=ustar', '-C', layerDir, '-cf', layerPath, 'etc']);
    const { createHash } = await import('node:crypto');
    const diffId = `sha256:${createHash('sha256').update(await readFile(layerPath)).digest('hex')}`;
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } });
    await writeFile(join(root, 'img', 'config.json'), config);
    // The manifest names the layer through a symlink with a long target: a GNU 'K' entry or a PAX linkpath.
    await exec('ln', ['-s', `${long}/layer.tar`, join(root, 'img', `${'l'.repeat(101)}.tar`)]);
    await writeFile(join(root, 'img', 'manifest.json'), JSON.stringify([{ Config: 'config.json', Layers: [`${'l'.repeat(101)}.tar`] }]));
    const archive = join(root, 'image.tar');
    await exec('tar', [`--format=${format}`, '-C', join(root, 'img'), '-cf', archive, '.']);

    // The archive really uses the extended headers this test is about.
    const bytes = await readFile(archive);
    const types = new Set<string>();
    for (let pos = 0; pos + 512 <= bytes.length; ) {
      const size = Number.parseInt(bytes.subarray(pos + 124, pos + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
      if (bytes.subarray(pos, pos + 512).every((b) => b === 0)) break;
      types.add(String.fromCharCode(bytes[pos + 156]!));
      pos += 512 + Math.ceil(size / 512) * 512;
    }
    expect([...types]).toEqual(expect.arrayContaining(format === 'gnu' ? ['L', 'K'] : ['x']));

    for (const path of [archive, await gzipCopy(archive)]) {
      const image = await computeImage({ path });
      expect(image.layers.map((l) => l.digest)).toEqual([diffId]);
      expect(image.layers[0]!.size).toBe((await readFile(layerPath)).length);
    }
  });
});

async function gzipCopy(path: string): Promise<string> {
  const { gzipSync } = await import('node:zlib');
  await writeFile(`${path}.gz`, gzipSync(await readFile(path)));
  return `${path}.gz`;
}
