/**
 * Blob check benchmark: `checkImageBlobs` (what `pnpm verify --manifest` runs
 * to check that the manifest, config and every layer hash to their digests)
 * against `skopeo copy docker://… dir:…`, which a user would run to have
 * every blob fetched and digest-checked, on the same image in a loopback
 * docker-registry, in the same run. Each side runs in a fresh process; the
 * figures are medians over the trials, and the peak RSS shows the layer is
 * streamed through the hash, never held in memory.
 *
 *   pnpm exec tsx --conditions=source bench/verify-blobs.ts [--trials 3] [--mib 1024]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { checkImageBlobs, describeBlobProblems, pushImage } from '../packages/oci/src/index.js';
import { writeDockerArchive } from '../packages/testkit/src/archives.js';
import { startRegistry } from '../packages/testkit/src/registry.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { trials: { type: 'string', default: '3' }, mib: { type: 'string', default: '1024' }, child: { type: 'string' } } });

if (values.child) {
  // One check in this process: time and peak memory, as JSON on stdout.
  const start = performance.now();
  const [target, digest] = values.child.split('@') as [string, string];
  const result = await checkImageBlobs(target, digest, { full: true });
  if (!result.ok) throw new Error(describeBlobProblems(result).join('; '));
  process.stdout.write(JSON.stringify({ ms: performance.now() - start, maxRssKiB: process.resourceUsage().maxRSS }));
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const work = await mkdtemp(join(tmpdir(), 'bench-verify-'));
const registry = await startRegistry();
try {
  const mib = Number(values.mib);
  const archive = (await writeDockerArchive(join(work, 'img.tar'), { layers: [{ size: mib << 20 }, { size: 4 << 20 }], seed: 'bench-verify', randomShare: 0.2 })).path;
  const image = await pushImage({ path: archive }, `${registry.url}/bench/app:v1`);
  const ref = `${registry.url}/bench/app@${image.digest}`;
  const ours: { ms: number; maxRssKiB: number }[] = [];
  const skopeo: number[] = [];
  for (let t = 0; t < Number(values.trials); t++) {
    const { stdout } = await run(tsx, ['--conditions=source', import.meta.filename, '--child', ref], { maxBuffer: 1 << 20 });
    ours.push(JSON.parse(stdout));
    const dest = join(work, `skopeo-${t}`);
    const start = performance.now();
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${dest}`]);
    skopeo.push(performance.now() - start);
    await rm(dest, { recursive: true, force: true });
  }
  const oursMs = median(ours.map((o) => o.ms));
  const skopeoMs = median(skopeo);
  console.log(`image: ${mib} MiB layer + 4 MiB layer, ${values.trials} trials (medians)`);
  console.log(`checkImageBlobs: ${(oursMs / 1000).toFixed(2)} s, peak RSS ${Math.round(median(ours.map((o) => o.maxRssKiB)) / 1024)} MiB`);
  console.log(`skopeo copy docker:// dir: (fetch + digest check): ${(skopeoMs / 1000).toFixed(2)} s`);
  console.log(`ratio ours / skopeo: ${(oursMs / skopeoMs).toFixed(2)}`);
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
