import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type Logger, ReleaseError } from '@nixrel/core';
import { ioError } from './io-error.js';
import { sleep } from './retry.js';

/**
 * A lock between processes of one machine: a file created exclusively,
 * holding `<host> <pid>`. A lock whose process is gone (a killed run) is
 * taken over at once; one not refreshed for `staleMs` (its holder hung or
 * runs on another machine sharing the directory) after that. The holder
 * refreshes it while it works, and nobody waits longer than `waitMs`.
 */
export interface LockOptions {
  logger: Logger;
  staleMs?: number;
  waitMs?: number;
}

export async function withLockFile<T>(lock: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const staleMs = opts.staleMs ?? 30_000;
  const waitMs = opts.waitMs ?? 5 * 60_000;
  const started = Date.now();
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      try {
        await fh.writeFile(`${hostname()} ${process.pid}\n`);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        await rm(lock, { force: true }).catch(() => undefined);
        const io = ioError(e, lock);
        throw io instanceof ReleaseError ? io : new ReleaseError('INVALID_INPUT', `cannot create lock file ${lock}: ${(e as Error).message}`, { cause: e });
      }
      const st = await stat(lock).catch(() => undefined);
      if (st && (Date.now() - st.mtimeMs > staleMs || (await lockHolderIsGone(lock)))) {
        opts.logger.warn(`${lock}: taking over a stale lock (${(await readFile(lock, 'utf8').catch(() => '')).trim() || 'no holder recorded'})`);
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() - started > waitMs) {
        const holder = (await readFile(lock, 'utf8').catch(() => '')).trim();
        throw new ReleaseError('CONFLICT', `gave up after ${Math.round(waitMs / 1000)} s waiting for lock ${lock} (held by ${holder || 'an unknown process'})`);
      }
      await sleep(10 + Math.random() * 20);
    }
  }
  const refresh = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), Math.max(1000, staleMs / 3));
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    await rm(lock, { force: true });
  }
}

/** True when the lock names a process on this host that no longer runs. */
async function lockHolderIsGone(lock: string): Promise<boolean> {
  const [host, pid] = (await readFile(lock, 'utf8').catch(() => '')).trim().split(' ');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
