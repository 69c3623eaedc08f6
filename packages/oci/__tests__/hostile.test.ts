import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeHostileArchives } from '@nixrel/testkit/archives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

/**
 * The hostile-input suite: inputs a careless or malicious archive, registry
 * or neighbour could produce. Each case must end in bounded time and memory
 * with a clear, typed error (or, for races, with exactly one winner). The
 * suite prints how many cases it ran and how many held.
 */

let dir: string;
let cleanup: () => Promise<void>;
const tally = { ran: 0, held: 0 };
const count = (held: boolean) => {
  tally.ran++;
  if (held) tally.held++;
};

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  console.log(`hostile suite: ${tally.ran} cases run, ${tally.held} held`);
  await cleanup();
});

interface CaseResult {
  name: string;
  path: string;
  ms: number;
  rss: number;
  code: string;
  message: string;
}

/** Runs the reader over every archive in a child process, killed if it outlives `timeoutMs`. */
function readInChild(cases: { name: string; path: string }[], timeoutMs: number): Promise<{ results: CaseResult[]; timedOut: boolean }> {
  const runner = fileURLToPath(new URL('./hostile-archive-runner.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', runner], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(cases));
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ results: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseResult), timedOut });
    });
  });
}

describe('hostile archives', () => {
  it('refuses every mutated archive with ARCHIVE_ERROR or DIGEST_MISMATCH naming it, each in bounded time and memory', async () => {
    const cases = await writeHostileArchives(dir);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const { results, timedOut } = await readInChild(cases, 240_000);
    const failures: string[] = [];
    for (const c of cases) {
      const r = results.find((x) => x.path === c.path);
      let why: string | undefined;
      if (!r) why = timedOut ? 'did not finish (killed after the time limit)' : 'no result';
      else if (r.code !== 'ARCHIVE_ERROR' && r.code !== 'DIGEST_MISMATCH') why = `ended ${r.code}: ${r.message.slice(0, 300)}`;
      else if (!r.message.includes(c.path)) why = `message does not name the archive: ${r.message}`;
      else if (r.ms > 10_000) why = `took ${Math.round(r.ms)} ms`;
      count(why === undefined);
      if (why) failures.push(`${c.name}: ${why}`);
    }
    expect(failures).toEqual([]);
    // Node and the TypeScript loader alone take ~80 MB; the 24 x 16 MiB metadata bomb would take 400 MB more if buffered.
    // (Sampled resident memory: getrusage's peak would include the forked test runner's.)
    const peakMiB = Math.max(...results.map((r) => r.rss)) / (1 << 20);
    expect(peakMiB).toBeLessThan(200);
  }, 300_000);
});
