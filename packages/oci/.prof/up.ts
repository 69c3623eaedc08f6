import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pushImage } from '../src/index.js';
import { startRegistry } from '../../testkit/src/registry.js';
function pidOf(config: string): number {
  for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue; try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(config)) return Number(p); } catch {} }
  throw new Error('no pid');
}
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const [archive, cache, conc] = process.argv.slice(2);
const reg = await startRegistry();
const rpid = pidOf(join(dirname(reg.storageDir), 'config.yml'));
const t = performance.now(); const r0 = cpu(rpid); const s0 = self();
await pushImage({ path: archive! }, `${reg.url}/p/x:v1`, { cache: cache!, concurrency: Number(conc ?? 3) });
console.log(`push ${(performance.now() - t).toFixed(0)} ms, client cpu ${(self() - s0).toFixed(0)}, registry cpu ${cpu(rpid) - r0}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
await reg.stop();
