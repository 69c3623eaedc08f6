import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Digest } from '@nixrel/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachReferrer, fallbackTag, fetchReferrerLayer, listReferrers, listTags, pushImage } from '../src/index.js';
import { listFiles, registryAndArchive, rejection } from './helpers.js';

const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SBOM = 'application/vnd.cyclonedx+json';
const enc = (s: string) => new TextEncoder().encode(s);

const fx = registryAndArchive('referrers', [{ size: 20_000 }]);

function runAttacher(image: string, n: number): Promise<string> {
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = join(fx.dir, `attach-${n}.mts`);
  return writeFile(
    script,
    `import { attachReferrer } from ${JSON.stringify(src)};\n` +
      `const r = await attachReferrer(${JSON.stringify(image)}, { artifactType: 'application/x-proc', layerMediaType: 'text/plain', data: new TextEncoder().encode('proc ${n}') });\n` +
      'process.stdout.write(r.digest);\n',
  ).then(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(tsx, ['--conditions=source', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`attacher ${n} exited ${code}: ${err}`))));
      }),
  );
}

describe.each(['registry', 'layout'] as const)('referrers in a %s', (kind) => {
  let repo: string;
  let image: string;
  let digest: string;
  beforeAll(async () => {
    repo = kind === 'registry' ? `${fx.reg.url}/ref/app` : `oci:${join(fx.dir, 'layout')}`;
    const pushed = await pushImage({ path: fx.archive }, `${repo}:v1`);
    digest = pushed.digest;
    image = `${repo}@${digest}`;
  });

  it('attaches two artifacts and lists them through the fallback index, filtered by type', async () => {
    const sig = await attachReferrer(image, {
      artifactType: BUNDLE,
      layerMediaType: BUNDLE,
      data: enc('{"bundle":1}'),
      annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
    });
    const sbom = await attachReferrer(image, { artifactType: SBOM, layerMediaType: SBOM, data: enc('{"bomFormat":"CycloneDX"}') });
    // Attaching the same artifact again is idempotent.
    expect((await attachReferrer(image, { artifactType: SBOM, layerMediaType: SBOM, data: enc('{"bomFormat":"CycloneDX"}') })).digest).toBe(sbom.digest);

    const all = await listReferrers(image);
    expect(all.map((r) => r.digest)).toEqual([sig.digest, sbom.digest]);
    expect(all[0]).toMatchObject({ artifactType: BUNDLE, annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' } });
    expect((await listReferrers(image, { artifactType: SBOM })).map((r) => r.digest)).toEqual([sbom.digest]);
    expect(await listTags(repo)).toContain(fallbackTag(digest));

    const layer = await fetchReferrerLayer(image, sig.digest);
    expect(new TextDecoder().decode(layer.data)).toBe('{"bundle":1}');
    expect(layer).toMatchObject({ mediaType: BUNDLE, artifactType: BUNDLE });
  });

  it('keeps every one of 5 concurrent attachers in the index', async () => {
    const attached = await Promise.all(
      Array.from({ length: 5 }, (_, i) => attachReferrer(image, { artifactType: 'application/x-parallel', layerMediaType: 'text/plain', data: enc(`parallel ${i}`) })),
    );
    const listed = (await listReferrers(image, { artifactType: 'application/x-parallel' })).map((r) => r.digest).sort();
    expect(listed).toEqual(attached.map((a) => a.digest).sort());
  });

  it('keeps every one of 4 attaching processes in the index', async () => {
    const digests = await Promise.all([0, 1, 2, 3].map((n) => runAttacher(image, n)));
    const listed = (await listReferrers(image, { artifactType: 'application/x-proc' })).map((r) => r.digest).sort();
    expect(listed).toEqual([...digests].sort());
  });

  it('refuses references without a digest and images that do not exist, writing nothing', async () => {
    const e = await rejection(attachReferrer(`${repo}:v1`, { artifactType: SBOM, layerMediaType: SBOM, data: enc('x') }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain(`${repo}:v1`);
    const before = await listFiles(kind === 'registry' ? fx.reg.storageDir : join(fx.dir, 'layout'));
    const missing = `${repo}@${sha256Digest('nothing')}`;
    const e2 = await rejection(attachReferrer(missing, { artifactType: SBOM, layerMediaType: SBOM, data: enc('x') }));
    expect(e2.code).toBe('NOT_FOUND');
    expect(e2.message).toContain(missing);
    expect(await listFiles(kind === 'registry' ? fx.reg.storageDir : join(fx.dir, 'layout'))).toEqual(before);
    expect(await listReferrers(missing)).toEqual([]);
  });
});

it('reads referrers written with the older convention (type only in the config media type)', async () => {
  const repo = `${fx.reg.url}/ref/legacy`;
  const { digest, mediaType } = await pushImage({ path: fx.archive }, repo);
  const base = `http://${fx.reg.url}/v2/ref/legacy`;
  const put = async (data: Uint8Array) => {
    const loc = (await fetch(`${base}/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
    const url = new URL(loc, `http://${fx.reg.url}`);
    url.searchParams.set('digest', sha256Digest(data));
    expect((await fetch(url, { method: 'PUT', body: Buffer.from(data) })).status).toBe(201);
    return { digest: sha256Digest(data), size: data.length };
  };
  const config = enc('{"legacy":true}');
  const layer = enc('legacy payload');
  const manifest = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.example.legacy.config.v1+json', ...(await put(config)) },
      layers: [{ mediaType: 'text/plain', ...(await put(layer)) }],
      subject: { mediaType, digest, size: 0 },
    }),
  );
  const md = sha256Digest(manifest);
  const headers = { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
  expect((await fetch(`${base}/manifests/${md}`, { method: 'PUT', body: manifest, headers })).status).toBe(201);
  const index = enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: headers['Content-Type'], digest: md, size: manifest.length }] }));
  const put2 = await fetch(`${base}/manifests/${fallbackTag(digest)}`, { method: 'PUT', body: index, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
  expect(put2.status).toBe(201);

  const listed = await listReferrers(`${repo}@${digest}`, { artifactType: 'application/vnd.example.legacy.config.v1+json' });
  expect(listed.map((r) => r.digest)).toEqual([md]);
  // A new attachment merges into the existing index instead of replacing it.
  const added = await attachReferrer(`${repo}@${digest}`, { artifactType: SBOM, layerMediaType: SBOM, data: enc('{}') });
  expect((await listReferrers(`${repo}@${digest}`)).map((r) => r.digest)).toEqual([md, added.digest]);
  const fetched = await fetchReferrerLayer(`${repo}@${digest}`, md);
  expect(new TextDecoder().decode(fetched.data)).toBe('legacy payload');
});
