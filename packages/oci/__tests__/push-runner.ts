/**
 * One push in its own process, for the tests of pushes racing between
 * processes: `push-runner.ts <artifact> <target>`, printing one JSON line.
 */
import { isReleaseError } from '@nixrel/core';
import { pushImage } from '../src/push.js';

const [artifact, target] = process.argv.slice(2) as [string, string];
try {
  const r = await pushImage({ path: artifact }, target, { cache: false });
  process.stdout.write(`${JSON.stringify({ code: 'OK', digest: r.digest })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify(isReleaseError(e) ? { code: e.code, message: e.message } : { code: 'UNEXPECTED', message: String(e) })}\n`);
}
