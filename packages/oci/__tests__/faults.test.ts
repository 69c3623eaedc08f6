import { join } from 'node:path';
import { writeDockerArchive, writeStreamScript } from '@nixrel/testkit/archives';
import { startFaultProxy } from '@nixrel/testkit/fault-proxy';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeImage } from '../src/archive.js';
import { pushImage, resolveImage } from '../src/index.js';
import { exec, isolateImageCache, rejection, skopeoRawDigest, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let reg: RegistryHandle;
const retry = { attempts: 8, baseDelayMs: 10, maxDelayMs: 200 };

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  isolateImageCache(dir);
  reg = await startRegistry();
});
afterAll(async () => {
  await reg.stop();
  await cleanup();
});

/** skopeo re-reads every blob and checks it against the manifest: the image is whole. */
async function assertWholeImage(ref: string, digest: string): Promise<void> {
  expect(await skopeoRawDigest(reg, ref)).toBe(digest);
  const out = join(dir, `check-${Math.random().toString(36).slice(2)}`);
  await exec('skopeo', ['copy', '--preserve-digests', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`]);
  const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', out]);
  expect(stdout).toMatch(/Validation succeeded/);
}

describe('pushing through injected faults', () => {
  it('completes with the right digest through 500s, 429s, resets mid-upload and truncated bodies', async () => {
    const proxy = await startFaultProxy({ upstream: reg.url, rate: 0.3, seed: 42, retryAfterSeconds: 0 });
    try {
      const layers = [{ size: 1_500_000 }, { size: 600_000 }, { size: 2_500_000 }, { size: 50_000 }];
      const tar = (await writeDockerArchive(join(dir, 'f.tar'), { layers, seed: 'faults' })).path;
      const gz = (await writeDockerArchive(join(dir, 'g.tar.gz'), { layers, seed: 'faults-gz', gzip: true })).path;
      const stream = await writeStreamScript(join(dir, 's.sh'), (await writeDockerArchive(join(dir, 's.tar'), { layers, seed: 'faults-stream' })).path);
      for (const [i, path] of [tar, gz, stream].entries()) {
        const expected = (await computeImage({ path })).digest;
        const result = await pushImage({ path }, `${proxy.url}/faulty/app${i}:v1`, { retry });
        expect(result.digest).toBe(expected);
        await assertWholeImage(`${reg.url}/faulty/app${i}:v1`, expected);
      }
      for (const kind of ['500', '429', 'reset', 'truncate'] as const) expect(proxy.stats.faults[kind]).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  });

  it('honours Retry-After on 429', async () => {
    const path = (await writeDockerArchive(join(dir, 'r.tar'), { layers: [{ size: 10_000 }], seed: 'ra' })).path;
    const pushed = await pushImage({ path }, `${reg.url}/retry/after:v1`);
    const proxy = await startFaultProxy({ upstream: reg.url, rate: 1, faults: ['429'], maxFaults: 1, retryAfterSeconds: 1 });
    try {
      const t0 = Date.now();
      const got = await resolveImage(`${proxy.url}/retry/after:v1`, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
      expect(got.digest).toBe(pushed.digest);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      expect(proxy.stats.faults['429']).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('fails clearly after the retry budget, leaving no manifest behind', async () => {
    const path = (await writeDockerArchive(join(dir, 'b.tar'), { layers: [{ size: 400_000 }, { size: 30_000 }], seed: 'budget' })).path;
    const expected = (await computeImage({ path })).digest;
    // Every blob upload is cut off mid-body; everything else passes.
    const proxy = await startFaultProxy({ upstream: reg.url, rate: 1, faults: ['reset'], eligible: (m, p) => m === 'PUT' && p.includes('/blobs/uploads/') });
    try {
      const e = await rejection(pushImage({ path }, `${proxy.url}/budget/app:v1`, { retry: { attempts: 3, baseDelayMs: 5 } }));
      expect(e.code).toBe('NETWORK_ERROR');
      expect(e.message).toMatch(/uploading blob sha256:[a-f0-9]{64} to .*budget\/app failed after 3 attempts/);
      const res = await fetch(`http://${reg.url}/v2/budget/app/manifests/${expected}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.status).toBe(404);
      const tags = await fetch(`http://${reg.url}/v2/budget/app/tags/list`);
      expect(tags.status).toBe(404);
    } finally {
      await proxy.stop();
    }
  });
});
