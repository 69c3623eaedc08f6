/**
 * Push benchmark: `pushImage` (what `pnpm release push` runs) against
 * `skopeo copy docker-archive:… docker://…`, the tool a user would reach for,
 * on the same Nix-like archive, to the same loopback docker-registry, in the
 * same run. Prints wall-time ratios, the no-change re-push as a share of the
 * first push, and peak RSS with a 1 GiB layer.
 *
 *   pnpm exec tsx --conditions=source bench/push.ts [--mib 320] [--layers 40] [--big-mib 1024]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { computeImage, pushImage } from '../packages/oci/src/index.js';
import { writeDockerArchive } from '../packages/testkit/src/archives.js';
import { startRegistry } from '../packages/testkit/src/registry.js';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);
const MiB = 1 << 20;

// Child mode: one push, reporting wall time and this process's peak RSS.
if (process.argv[2] === '--child') {
  const [, , , artifact, target] = process.argv;
  const t0 = performance.now();
  const r = await pushImage({ path: artifact! }, target!);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, bytesUploaded: r.bytesUploaded, digest: r.digest }));
  process.exit(0);
}

const { values } = parseArgs({ options: { mib: { type: 'string', default: '320' }, layers: { type: 'string', default: '40' }, 'big-mib': { type: 'string', default: '1024' } } });
const totalMiB = Number(values.mib);
const layerCount = Number(values.layers);
const bigMiB = Number(values['big-mib']);

function child(artifact: string, target: string): Promise<{ ms: number; maxRssKiB: number; bytesUploaded: number; digest: string }> {
  return new Promise((resolve, reject) => {
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const p = spawn(tsx, ['--conditions=source', self, '--child', artifact, target], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))));
  });
}

async function timeSkopeo(archive: string, target: string): Promise<{ ms: number; maxRssKiB: number }> {
  const t0 = performance.now();
  const { stderr } = await run('/usr/bin/time', ['-v', 'skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${target}`], {
    maxBuffer: 16 * MiB,
  });
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { ms, maxRssKiB: rss ? Number(rss[1]) : Number.NaN };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const dir = await mkdtemp(join(tmpdir(), 'nixrel-bench-'));
const reg = await startRegistry();
try {
  // A fresh seed per run: no blob cache (skopeo's or the registry's) helps either side.
  const seed = `bench-${Date.now()}`;
  // Uneven layer sizes, like a Nix closure: a few large store paths, many small ones.
  const weights = Array.from({ length: layerCount }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const layers = weights.map((w) => ({ size: Math.max(64 * 1024, Math.round((w / sum) * totalMiB * MiB)) }));
  const archive = join(dir, 'image.tar');
  let t = performance.now();
  const info = await writeDockerArchive(archive, { layers, seed });
  console.log(`archive: ${(info.bytes / MiB).toFixed(0)} MiB, ${layers.length} layers (generated in ${fmt(performance.now() - t)})`);

  t = performance.now();
  const image = await computeImage({ path: archive });
  console.log(`computeImage (read + hash every layer): ${fmt(performance.now() - t)}  -> ${image.digest}`);

  const skopeo = await timeSkopeo(archive, `${reg.url}/bench/skopeo:v1`);
  console.log(`skopeo copy docker-archive -> registry:  ${fmt(skopeo.ms)}   peak RSS ${(skopeo.maxRssKiB / 1024).toFixed(0)} MiB`);

  t = performance.now();
  const first = await pushImage({ path: archive }, `${reg.url}/bench/api:v1`);
  const apiMs = performance.now() - t;
  console.log(`pushImage (in process):                  ${fmt(apiMs)}   ${(first.bytesUploaded / MiB).toFixed(0)} MiB uploaded`);

  const cli = await child(archive, `${reg.url}/bench/cli:v1`);
  console.log(`pushImage (fresh process, incl. startup): ${fmt(cli.ms)}   peak RSS ${(cli.maxRssKiB / 1024).toFixed(0)} MiB`);

  t = performance.now();
  const again = await pushImage({ path: archive }, `${reg.url}/bench/api:v1`);
  const reMs = performance.now() - t;
  console.log(`re-push, no change:                      ${fmt(reMs)}   ${again.bytesUploaded} bytes uploaded, ${again.blobsSkipped} blobs skipped`);

  let bigRss: number | undefined;
  let skopeoBigRss: number | undefined;
  if (bigMiB > 0) {
    const big = join(dir, 'big.tar');
    await writeDockerArchive(big, { layers: [{ size: bigMiB * MiB }, { size: MiB }], seed: `${seed}-big` });
    const r = await child(big, `${reg.url}/bench/big:v1`);
    bigRss = r.maxRssKiB / 1024;
    console.log(`${bigMiB} MiB layer: pushImage ${fmt(r.ms)}, peak RSS ${bigRss.toFixed(0)} MiB`);
    const s = await timeSkopeo(big, `${reg.url}/bench/big-skopeo:v1`);
    skopeoBigRss = s.maxRssKiB / 1024;
    console.log(`${bigMiB} MiB layer: skopeo    ${fmt(s.ms)}, peak RSS ${skopeoBigRss.toFixed(0)} MiB`);
    await rm(big, { force: true });
  }

  console.log('');
  console.log(`push wall time vs skopeo:       ${(apiMs / skopeo.ms).toFixed(2)}x (in process), ${(cli.ms / skopeo.ms).toFixed(2)}x (fresh process)   target <= 1.0x`);
  console.log(`re-push vs first push:          ${(reMs / apiMs).toFixed(3)}   target <= 0.1`);
  if (bigRss !== undefined) console.log(`peak RSS with a ${bigMiB} MiB layer:  ${bigRss.toFixed(0)} MiB (skopeo ${skopeoBigRss?.toFixed(0)} MiB)   target < 200 MB`);
} finally {
  await reg.stop();
  await rm(dir, { recursive: true, force: true });
}
