/**
 * Push benchmark: `pushImage` (what `pnpm release push` runs) against
 * `skopeo copy docker-archive:… docker://…`, the tool a user would reach for,
 * on the same Nix-like archive, to a loopback docker-registry, in the same run.
 *
 * Every push runs in a fresh process (ours: `node` on the compiled package,
 * as the root scripts run it) against a fresh registry (so neither
 * side finds blobs from an earlier push), the two sides alternate which goes
 * first, and the figures are medians over the trials: on a shared 2-core
 * machine a single run swings by 2x with whatever else runs. CPU seconds
 * (client and registry) are printed too; they hardly depend on that load.
 *
 * Prints: push wall time vs skopeo, the no-change re-push (image cache hit:
 * HEAD requests only) as a share of a first push, hashing on worker threads
 * vs one thread, and a single 1 GiB layer against skopeo with peak RSS.
 *
 *   pnpm exec tsx --conditions=source bench/push.ts [--trials 5] [--mib 320] [--layers 40] [--big-mib 1024] [--big-trials 3] [--concurrency 3]
 */
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { computeImage } from '../packages/oci/src/index.js';
import { writeDockerArchive } from '../packages/testkit/src/archives.js';
import { type RegistryHandle, startRegistry } from '../packages/testkit/src/registry.js';

const run = promisify(execFile);
const MiB = 1 << 20;

interface ChildResult {
  /** pushImage call, start to return. */
  ms: number;
  cpuMs: number;
  maxRssKiB: number;
  bytesUploaded: number;
  bytesRead: number;
  digest: string;
}

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '5' },
    mib: { type: 'string', default: '320' },
    layers: { type: 'string', default: '40' },
    'big-mib': { type: 'string', default: '1024' },
    'big-trials': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '3' },
  },
});
const trials = Number(values.trials);
const totalMiB = Number(values.mib);
const layerCount = Number(values.layers);
const bigMiB = Number(values['big-mib']);
const bigTrials = Number(values['big-trials']);
const concurrency = Number(values.concurrency);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const range = (xs: number[], f = sec) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;

/** CPU time (user + system) of the registry process, in ms: the server's share of a push. */
function registryPid(reg: RegistryHandle): number {
  const config = join(dirname(reg.storageDir), 'config.yml');
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(config)) return Number(p);
    } catch {
      // exited meanwhile
    }
  }
  throw new Error(`no docker-registry process for ${config}`);
}
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// One push in a fresh `node` process running the compiled package, as the
// root scripts run the command line; it reports its own figures.
const CHILD = `
const { pushImage } = await import(process.env.BENCH_OCI);
const [artifact, target, cache, concurrency] = JSON.parse(process.env.BENCH_ARGS);
let bytesRead = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await pushImage({ path: artifact }, target, { cache, concurrency, onRead: (n) => (bytesRead += n) });
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, bytesUploaded: r.bytesUploaded, bytesRead, digest: r.digest }));
`;
const ociDist = new URL('../packages/oci/dist/index.js', import.meta.url).href;

function child(artifact: string, target: string, cache: string): Promise<ChildResult & { wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const env = { ...process.env, BENCH_OCI: ociDist, BENCH_ARGS: JSON.stringify([artifact, target, cache, concurrency]) };
    const p = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('close', (code) => (code === 0 ? resolve({ ...JSON.parse(out), wallMs: performance.now() - t0 }) : reject(new Error(`child exited ${code}`))));
  });
}

async function timeSkopeo(archive: string, target: string): Promise<{ ms: number; cpuMs: number; maxRssKiB: number }> {
  const t0 = performance.now();
  const { stderr } = await run('/usr/bin/time', ['-f', '%U %S %M', 'skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${target}`], {
    maxBuffer: 16 * MiB,
  });
  const ms = performance.now() - t0;
  const [user, system, rss] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (user! + system!) * 1000, maxRssKiB: rss! };
}

/** Waits until the file is 2 s old: the image cache does not remember files changed more recently. */
const settle = () => new Promise((r) => setTimeout(r, 2100));

// The children run the compiled package: build it from the current sources.
await run(fileURLToPath(new URL('../node_modules/.bin/tsc', import.meta.url)), ['-b', fileURLToPath(new URL('../packages/oci', import.meta.url))]);
const dir = await mkdtemp(join(tmpdir(), 'nixrel-bench-'));
try {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores; other work on the machine shows in wall times)`);
  const seed = `bench-${Date.now()}`;
  // Uneven layer sizes, like a Nix closure: a few large store paths, many small ones.
  const weights = Array.from({ length: layerCount }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const layers = weights.map((w) => ({ size: Math.max(64 * 1024, Math.round((w / sum) * totalMiB * MiB)) }));
  const archive = join(dir, 'image.tar');
  const info = await writeDockerArchive(archive, { layers, seed });
  console.log(`archive: ${(info.bytes / MiB).toFixed(0)} MiB, ${layers.length} layers, largest ${(layers[0]!.size / MiB).toFixed(0)} MiB`);

  // First read of the archive: layers hashed on worker threads vs in one thread.
  const hashMs: Record<'workers' | 'thread', number[]> = { workers: [], thread: [] };
  let digest = '';
  for (let i = 0; i < trials; i++) {
    for (const mode of i % 2 ? (['thread', 'workers'] as const) : (['workers', 'thread'] as const)) {
      const t = performance.now();
      digest = (await computeImage({ path: archive }, { parallelHash: mode === 'workers' })).digest;
      hashMs[mode].push(performance.now() - t);
    }
  }
  console.log(`read + hash every layer: worker threads ${range(hashMs.workers)}, one thread ${range(hashMs.thread)}  -> ${digest}`);
  await settle();

  const ours = { ms: [] as number[], wallMs: [] as number[], cpuMs: [] as number[], regCpuMs: [] as number[], reMs: [] as number[], reWallMs: [] as number[], reRead: [] as number[] };
  const theirs = { ms: [] as number[], cpuMs: [] as number[], regCpuMs: [] as number[] };
  for (let i = 0; i < trials; i++) {
    const order = i % 2 ? (['skopeo', 'ours'] as const) : (['ours', 'skopeo'] as const);
    for (const side of order) {
      const reg = await startRegistry();
      try {
        const pid = registryPid(reg);
        if (side === 'skopeo') {
          const c0 = cpuMsOf(pid);
          const s = await timeSkopeo(archive, `${reg.url}/bench/skopeo:v1`);
          theirs.ms.push(s.ms);
          theirs.cpuMs.push(s.cpuMs);
          theirs.regCpuMs.push(cpuMsOf(pid) - c0);
        } else {
          // A fresh cache per trial: the first push reads and hashes the archive.
          const cache = join(dir, `cache-${i}`);
          const c0 = cpuMsOf(pid);
          const first = await child(archive, `${reg.url}/bench/ours:v1`, cache);
          ours.regCpuMs.push(cpuMsOf(pid) - c0);
          if (first.digest !== digest) throw new Error(`pushed ${first.digest}, computed ${digest}`);
          ours.ms.push(first.ms);
          ours.wallMs.push(first.wallMs);
          ours.cpuMs.push(first.cpuMs);
          const again = await child(archive, `${reg.url}/bench/ours:v1`, cache);
          if (again.bytesUploaded !== 0) throw new Error(`re-push uploaded ${again.bytesUploaded} bytes`);
          ours.reMs.push(again.ms);
          ours.reWallMs.push(again.wallMs);
          ours.reRead.push(again.bytesRead);
        }
      } finally {
        await reg.stop();
      }
    }
  }
  const ratios = ours.ms.map((ms, i) => ms / theirs.ms[i]!);
  const reRatios = ours.reMs.map((ms, i) => ms / ours.ms[i]!);
  console.log(`\n${trials} trials, median (min-max), each push in a fresh process to a fresh registry:`);
  console.log(`skopeo copy docker-archive -> registry:   ${range(theirs.ms)}   cpu ${sec(median(theirs.cpuMs))} + registry ${sec(median(theirs.regCpuMs))}`);
  console.log(`pushImage, first push (cold cache):       ${range(ours.ms)}   cpu ${sec(median(ours.cpuMs))} + registry ${sec(median(ours.regCpuMs))}`);
  console.log(`  same, whole process (node start-up):    ${range(ours.wallMs)}`);
  console.log(`pushImage, re-push with no change:        ${range(ours.reMs)}   ${median(ours.reRead)} archive bytes read`);
  console.log(`  same, whole process (node start-up):    ${range(ours.reWallMs)}`);

  // One large layer: the upload of a single blob bounds the wall time, so nothing overlaps it.
  const big = { ms: [] as number[], rssMiB: [] as number[], skopeoMs: [] as number[], skopeoRssMiB: [] as number[] };
  if (bigMiB > 0) {
    const bigPath = join(dir, 'big.tar');
    await writeDockerArchive(bigPath, { layers: [{ size: bigMiB * MiB }, { size: MiB }], seed: `${seed}-big` });
    await settle();
    try {
      for (let i = 0; i < bigTrials; i++) {
        for (const side of i % 2 ? (['skopeo', 'ours'] as const) : (['ours', 'skopeo'] as const)) {
          const reg = await startRegistry();
          try {
            if (side === 'ours') {
              const r = await child(bigPath, `${reg.url}/bench/big:v1`, join(dir, `cache-big-${i}`));
              big.ms.push(r.ms);
              big.rssMiB.push(r.maxRssKiB / 1024);
            } else {
              const t = await timeSkopeo(bigPath, `${reg.url}/bench/big-skopeo:v1`);
              big.skopeoMs.push(t.ms);
              big.skopeoRssMiB.push(t.maxRssKiB / 1024);
            }
          } finally {
            await reg.stop();
          }
        }
      }
      console.log(`${bigMiB} MiB layer, ${bigTrials} trials: pushImage ${range(big.ms)}, peak RSS ${Math.max(...big.rssMiB).toFixed(0)} MiB`);
      console.log(`${bigMiB} MiB layer, ${bigTrials} trials: skopeo    ${range(big.skopeoMs)}, peak RSS ${Math.max(...big.skopeoRssMiB).toFixed(0)} MiB`);
    } finally {
      await rm(bigPath, { force: true });
    }
  }

  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`push wall time vs skopeo, ${layerCount} layers:   ${(median(ours.ms) / median(theirs.ms)).toFixed(2)}x (ratio of medians; per-trial ratios ${ratios.map((r) => r.toFixed(2)).join(' ')})   target <= 0.8x`);
  if (big.ms.length > 0) {
    const bigRatios = big.ms.map((ms, i) => ms / big.skopeoMs[i]!);
    console.log(`push wall time vs skopeo, one ${bigMiB} MiB layer: ${(median(big.ms) / median(big.skopeoMs)).toFixed(2)}x (ratio of medians; per-trial ratios ${bigRatios.map((r) => r.toFixed(2)).join(' ')})   target <= 1.0x`);
    console.log(`peak RSS with a ${bigMiB} MiB layer:   ${Math.max(...big.rssMiB).toFixed(0)} MiB (skopeo ${Math.max(...big.skopeoRssMiB).toFixed(0)} MiB)   target < 150 MB`);
  }
  console.log(
    `push CPU vs skopeo (client + registry): ${((median(ours.cpuMs) + median(ours.regCpuMs)) / (median(theirs.cpuMs) + median(theirs.regCpuMs))).toFixed(2)}x`,
  );
  console.log(`re-push vs first push:           ${median(reRatios).toFixed(3)} (median of per-trial ratios)   target <= 0.1`);
  console.log(`hashing on worker threads vs one thread: ${(median(hashMs.workers) / median(hashMs.thread)).toFixed(2)}x`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
