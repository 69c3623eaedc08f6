/**
 * Start-up cost of the root scripts: `pnpm images` (which checks for a stale
 * build before running the command) against `node packages/release/dist/cli.js
 * images` (the compiled command alone), alternated in the same run so both
 * see the same machine load. Target: a ratio of at most 1.5.
 *
 *   pnpm exec tsx bench/startup.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 15);

function time(cmd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INIT_CWD: root } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

// One warm-up each: the first call may rebuild a stale workspace.
time('pnpm', ['images']);
time('node', ['packages/release/dist/cli.js', 'images']);
const viaPnpm: number[] = [];
const direct: number[] = [];
for (let i = 0; i < runs; i++) {
  viaPnpm.push(time('pnpm', ['images']));
  direct.push(time('node', ['packages/release/dist/cli.js', 'images']));
}
const ratio = median(viaPnpm) / median(direct);
console.log(`pnpm images: median ${median(viaPnpm).toFixed(0)} ms over ${runs} runs`);
console.log(`node packages/release/dist/cli.js images: median ${median(direct).toFixed(0)} ms`);
console.log(`ratio ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'ok' : 'OVER TARGET'}`);
