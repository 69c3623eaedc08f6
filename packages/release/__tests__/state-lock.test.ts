import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReleaseError, type ReleaseError } from '@nixrel/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockStateDir } from '../src/state-lock.js';

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'nixrel-lock-')), 'example-v1-20260304.1');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

/** The pid of a process that has exited: a holder that died. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** A process that exited but was never reaped (as a killed release is where nothing reaps orphans): a zombie. */
async function zombiePid(): Promise<{ pid: number; done: () => void }> {
  // The parent sleeps without waiting for its child, so the child stays a zombie until the parent goes.
  const parent = spawn('perl', ['-e', '$| = 1; if (my $p = fork) { print "$p\\n"; sleep 60 } else { exit 0 }'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
  await new Promise((r) => setTimeout(r, 100));
  expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
  return { pid, done: () => parent.kill('SIGKILL') };
}

async function failure(p: Promise<unknown>): Promise<ReleaseError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isReleaseError(e)) throw new Error(`expected a ReleaseError, got ${String(e)}`);
  return e;
}

describe('the lock of a release state directory', () => {
  it('a second holder fails at once, naming the first one\'s pid; once released it can be taken', async () => {
    const first = await lockStateDir(dir);
    const started = Date.now();
    const e = await failure(lockStateDir(dir));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain(`${dir} is in use by another release (pid ${process.pid} on ${hostname()}`);
    expect(e.message).toMatch(/run again with --wait/);
    await first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const second = await lockStateDir(dir);
    await second.release();
    // Nothing of the lock is left behind.
    expect(await readdir(dir)).toEqual([]);
  });

  it('with wait, the second holder waits for the first and then takes the lock', async () => {
    const first = await lockStateDir(dir);
    const waited: number[] = [];
    const second = lockStateDir(dir, { wait: true, pollMs: 20, onWait: (h) => waited.push(h.pid) });
    await new Promise((r) => setTimeout(r, 150));
    let taken = false;
    void second.then(() => (taken = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(taken).toBe(false);
    await first.release();
    await (await second).release();
    expect(waited).toEqual([process.pid]);
  });

  it.each([
    ['a dead process', async () => `${JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-03-04T00:00:00Z' })}\n`],
    ['a holder that crashed while writing it', async () => '{"pid": 12'],
  ])('the lock of %s is taken over', async (_what, content) => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), await content());
    const lock = await lockStateDir(dir);
    await expect(failure(lockStateDir(dir))).resolves.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(`pid ${process.pid}`) });
    await lock.release();
  });

  it('the lock of a killed process left as a zombie is taken over', async () => {
    const zombie = await zombiePid();
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: zombie.pid, host: hostname(), since: 'then' }));
      const lock = await lockStateDir(dir);
      await lock.release();
    } finally {
      zombie.done();
    }
  });

  it('of several processes finding the same dead holder, exactly one takes the lock', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), since: 'then' }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockStateDir(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as ReleaseError).code).toBe('CONFLICT');
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
  });

  it('a lock held on another machine is never taken over', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'ci-runner-7', since: 'then' }));
    const e = await failure(lockStateDir(dir));
    expect(e.message).toContain('on ci-runner-7');
  });
});
