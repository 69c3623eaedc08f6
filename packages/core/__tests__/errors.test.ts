import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, EXIT_CODES, ReleaseError } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nixrel-errors-'));
  await writeFile(join(dir, 'a-file'), 'x');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What a real failing file-system call throws. */
async function thrownBy(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

describe('describeFailure', () => {
  it.each([
    ['a directory under a file', () => mkdir(join(dir, 'a-file', 'sub'), { recursive: true }), EXIT_CODES.IO_ERROR, /a-file\/sub: a part of the path is a file, not a directory \(ENOTDIR in mkdir\)/],
    ['a missing file', () => import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'absent'))), EXIT_CODES.NOT_FOUND, /absent: no such file or directory/],
    ['a directory read as a file', () => import('node:fs/promises').then((fs) => fs.readFile(dir)), EXIT_CODES.IO_ERROR, /it is a directory, not a file \(EISDIR in read\)/],
  ])('a file-system failure (%s) names the path, maps to its exit code and prints no stack', async (_what, call, exitCode, message) => {
    const failure = describeFailure(await thrownBy(call));
    expect(failure.exitCode).toBe(exitCode);
    expect(failure.text).toMatch(message);
    expect(failure.text).not.toMatch(/\n\s+at /);
  });

  it('a full disk says how to recover', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/release/oci/blobs/x.tmp' });
    const failure = describeFailure(e);
    expect(failure.exitCode).toBe(EXIT_CODES.IO_ERROR);
    expect(failure.text).toBe('error: /release/oci/blobs/x.tmp: no space left on the device (ENOSPC in write); free some space and run the same command again\n');
  });

  it('only a bug (anything else) is INTERNAL and carries its stack', () => {
    const bug = describeFailure(new TypeError("Cannot read properties of undefined (reading 'digest')"));
    expect(bug.exitCode).toBe(EXIT_CODES.INTERNAL);
    expect(bug.text).toMatch(/\n\s+at /);
    const user = describeFailure(new ReleaseError('INVALID_INPUT', 'bad --version', { details: ['why'] }));
    expect(user).toEqual({ text: 'error: bad --version\n  why\n', exitCode: EXIT_CODES.INVALID_INPUT });
  });
});
