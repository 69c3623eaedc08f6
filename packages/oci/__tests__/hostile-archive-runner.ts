/**
 * Reads each archive named on stdin (one JSON list) in this process and
 * prints one JSON line per archive: how it ended, how long it took and the
 * resident memory after it. Run as a child by hostile.test.ts, so that a
 * reader that hangs or balloons is caught by the parent's limits instead of
 * taking the test runner down with it.
 */
import { readFileSync } from 'node:fs';
import { isReleaseError } from '@nixrel/core';
import { computeImage } from '../src/archive.js';

const cases = JSON.parse(readFileSync(0, 'utf8')) as { name: string; path: string }[];
let peak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
for (const c of cases) {
  const t0 = performance.now();
  let outcome: { code: string; message: string };
  try {
    const image = await computeImage({ path: c.path }, { parallelHash: false });
    outcome = { code: 'OK', message: image.digest };
  } catch (e) {
    outcome = isReleaseError(e) ? { code: e.code, message: e.message } : { code: 'UNEXPECTED', message: String((e as Error)?.stack ?? e) };
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(`${JSON.stringify({ name: c.name, path: c.path, ms: performance.now() - t0, rss: peak, ...outcome })}\n`);
}
clearInterval(sample);
