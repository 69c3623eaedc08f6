import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readImageArtifact } from '../src/archive.js';
import { pushImage } from '../src/index.js';
import { writeDockerArchive } from '../../testkit/src/archives.js';
import { startRegistry } from '../../testkit/src/registry.js';
const run = promisify(execFile);
const MiB = 1 << 20;
function pidOf(needle: string): number {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle) && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('docker-registry')) return Number(p); } catch {}
  }
  throw new Error('no pid');
}
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const dir = await mkdtemp(join(tmpdir(), 'prof-'));
const reg = await startRegistry();
const rpid = pidOf(join(reg.storageDir, '..'));
const weights = Array.from({ length: 40 }, (_, i) => 1 / (i + 1));
const sum = weights.reduce((a, b) => a + b, 0);
const layers = weights.map((w) => ({ size: Math.max(64 * 1024, Math.round((w / sum) * 320 * MiB)) }));
const archive = join(dir, 'image.tar');
let n = 0;
const fresh = async () => { await writeDockerArchive(archive, { layers, seed: `p-${Date.now()}-${n++}` }); };
const conc = (process.argv[2] ?? '1,2,3,4').split(',').map(Number);
for (let round = 0; round < 2; round++) {
  for (const c of conc) {
    await fresh();
    let t = performance.now(); let r0 = cpu(rpid); let s0 = self();
    await readImageArtifact(archive);
    const readMs = performance.now() - t;
    t = performance.now(); r0 = cpu(rpid); s0 = self();
    await pushImage({ path: archive }, `${reg.url}/p/c${c}-${round}:v1`, { concurrency: c });
    const ms = performance.now() - t;
    console.log(`conc ${c}: read ${readMs.toFixed(0)} ms; push ${ms.toFixed(0)} ms  self cpu ${(self() - s0).toFixed(0)} registry cpu ${cpu(rpid) - r0}  load ${readFileSync('/proc/loadavg','utf8').split(' ')[0]}`);
  }
  await fresh();
  const t = performance.now(); const r0 = cpu(rpid);
  const { stderr } = await run('/usr/bin/time', ['-f', '%U %S', 'skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.url}/p/skopeo${round}:v1`]);
  console.log(`skopeo: ${(performance.now() - t).toFixed(0)} ms cpu ${stderr.trim()} registry cpu ${cpu(rpid) - r0}`);
}
await reg.stop();
await rm(dir, { recursive: true, force: true });
