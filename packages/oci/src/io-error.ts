import { ReleaseError } from '@nixrel/core';

/** What the system's I/O failures mean for the person running the command, and what to do. */
const IO_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space and run again',
  EDQUOT: 'disk quota exceeded; free some space and run again',
  EIO: 'input/output error on the device',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
};

/**
 * An I/O failure while writing `path` as a typed error naming the path (no
 * stack for something a full disk causes); anything else is returned as is.
 */
export function ioError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in IO_FAILURES)) return e;
  return new ReleaseError('IO_ERROR', `cannot write ${(e as NodeJS.ErrnoException).path ?? path}: ${IO_FAILURES[code]} (${code}); nothing was left half-written`, { cause: e });
}
