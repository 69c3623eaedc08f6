import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readImageArtifact } from '../src/archive.js';
import { pushImage } from '../src/index.js';
import { writeDockerArchive } from '../../testkit/src/archives.js';
import { startRegistry } from '../../testkit/src/registry.js';
const MiB = 1 << 20;
function pidOf(config: string): number {
  for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue; try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(config)) return Number(p); } catch {} }
  throw new Error('no pid');
}
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const dir = await mkdtemp(join(tmpdir(), 'prof-'));
const weights = Array.from({ length: 40 }, (_, i) => 1 / (i + 1));
const sum = weights.reduce((a, b) => a + b, 0);
const layers = weights.map((w) => ({ size: Math.max(64 * 1024, Math.round((w / sum) * 320 * MiB)) }));
const archive = join(dir, 'image.tar');
await writeDockerArchive(archive, { layers, seed: `p-${Date.now()}` });
await new Promise((r) => setTimeout(r, 2100));
const cache = join(dir, 'cache');
await readImageArtifact(archive);
await pushImage({ path: archive }, `oci:${join(dir, 'warm')}`, { cache }); // warms the cache
const conc = Number(process.argv[2] ?? 3);
for (let i = 0; i < 4; i++) {
  const reg = await startRegistry();
  const rpid = pidOf(join(dirname(reg.storageDir), 'config.yml'));
  let t = performance.now(); let s0 = self();
  await readImageArtifact(archive);
  const readMs = performance.now() - t; const readCpu = self() - s0;
  t = performance.now(); const r0 = cpu(rpid); s0 = self();
  await pushImage({ path: archive }, `${reg.url}/p/x:v1`, { cache, concurrency: conc });
  console.log(`read ${readMs.toFixed(0)} ms (cpu ${readCpu.toFixed(0)}); upload-only push ${(performance.now() - t).toFixed(0)} ms, client cpu ${(self() - s0).toFixed(0)}, registry cpu ${cpu(rpid) - r0}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
  await reg.stop();
}
await rm(dir, { recursive: true, force: true });
