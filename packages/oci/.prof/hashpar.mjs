import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { openSync, readSync, statSync } from 'node:fs';
const path = process.argv[2];
const size = statSync(path).size;
const code = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(${1 << 20});
parentPort.on('message', (m) => {
  const fd = openSync(m.path, 'r');
  const h = createHash('sha256'); let pos = m.offset, left = m.size;
  while (left > 0) { const n = readSync(fd, buf, 0, Math.min(buf.length, left), pos); h.update(buf.subarray(0, n)); pos += n; left -= n; }
  closeSync(fd);
  parentPort.postMessage(h.digest('hex'));
});`;
function single() { const fd = openSync(path, 'r'); const buf = Buffer.allocUnsafe(1<<20); const h = createHash('sha256'); let pos=0; while (pos<size) { const n = readSync(fd, buf, 0, buf.length, pos); h.update(buf.subarray(0,n)); pos+=n;} return h.digest('hex'); }
for (let r = 0; r < 3; r++) {
  let t = performance.now(); single(); const s = performance.now() - t;
  t = performance.now();
  const ws = [0,1].map(() => new Worker(code, { eval: true, execArgv: [] }));
  const t1 = performance.now();
  const half = Math.floor(size / 2);
  await Promise.all(ws.map((w, i) => new Promise((res) => { w.once('message', res); w.postMessage({ path, offset: i * half, size: i ? size - half : half }); })));
  const p = performance.now() - t;
  await Promise.all(ws.map((w) => w.terminate()));
  console.log(`single ${s.toFixed(0)} ms, 2 workers ${p.toFixed(0)} ms (startup ${(t1 - t).toFixed(0)}) load ${(await import('node:fs')).readFileSync('/proc/loadavg','utf8').split(' ')[0]}`);
}
