/**
 * One release at a time per state directory. A second process releasing the
 * same version fails at once naming the holder (or, with `--wait`, waits for
 * it); a lock left by a process that died (killed, machine rebooted) is taken
 * over, so a re-run resumes instead of failing until someone deletes a file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ReleaseError } from '@nixrel/core';

export const LOCK_FILE = '.lock';

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

function isAlive(holder: LockHolder): boolean {
  // Another machine's process cannot be checked from here: it counts as alive.
  if (holder.host !== hostname()) return true;
  if (holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent died too stays a zombie where nothing reaps
  // orphans (a container's init): it answers signal 0 but holds nothing.
  return !isZombie(holder.pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function readLockHolder(path: string): Promise<LockHolder | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === 'string') return h;
  } catch {
    // A lock cut short by a crash while it was written: its writer is gone.
  }
  return { pid: -1, host: hostname(), since: 'unknown' };
}

/** Creates `path` with our holder record, atomically: false when it exists. */
async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  // Written aside, then hard-linked into place: link fails when the lock exists, and a reader never sees half a file.
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, `${JSON.stringify(me)}\n`);
  try {
    await link(aside, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Removes a dead holder's lock. The takeover itself is guarded by a second
 * lock file, so two processes that both saw the dead holder cannot remove the
 * lock the first of them just took.
 */
async function takeOver(path: string, dead: LockHolder, me: LockHolder): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await tryCreate(guard, me))) {
    const other = await readLockHolder(guard);
    if (other && !isAlive(other)) await rm(guard, { force: true });
    return;
  }
  try {
    const now = await readLockHolder(path);
    if (now && now.pid === dead.pid && now.since === dead.since) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

export interface StateLock {
  release(): Promise<void>;
}

/** Takes the lock of a state directory; `wait` polls until the holder is done instead of failing. */
export async function lockStateDir(dir: string, opts: { wait?: boolean; onWait?: (holder: LockHolder) => void; pollMs?: number } = {}): Promise<StateLock> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let told = false;
  for (;;) {
    if (await tryCreate(path, me)) break;
    const holder = await readLockHolder(path);
    if (!holder) continue; // released meanwhile
    if (!isAlive(holder)) {
      await takeOver(path, holder, me);
      continue;
    }
    if (!opts.wait) {
      throw new ReleaseError(
        'CONFLICT',
        `${dir} is in use by another release (pid ${holder.pid} on ${holder.host}, since ${holder.since}): wait for it to finish, or run again with --wait`,
      );
    }
    if (!told) opts.onWait?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
  // A process that exits without releasing (an error thrown past us, a signal) still leaves no lock.
  const onExit = () => {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  };
  process.once('exit', onExit);
  return {
    async release() {
      process.off('exit', onExit);
      const holder = await readLockHolder(path);
      if (holder?.pid === me.pid && holder.since === me.since) await rm(path, { force: true });
    },
  };
}
