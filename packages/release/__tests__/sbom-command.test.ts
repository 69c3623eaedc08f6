import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createLogger, describeFailure, EXIT_CODES, isReleaseError, type ReleaseError } from '@nixrel/core';
import { validateBom } from '@nixrel/sbom';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CliContext } from '../src/cli-context.js';
import { run } from '../src/commands/sbom.js';

const REPO_ROOT = new URL('../../..', import.meta.url).pathname;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'sbom-command-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

function context(env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  const log: string[] = [];
  const ctx: CliContext = {
    repoRoot: REPO_ROOT,
    out: (t) => lines.push(t),
    logger: createLogger({ write: (l) => log.push(l) }),
    env: { ...process.env, RELEASE_NIX_OFFLINE: '1', SOURCE_DATE_EPOCH: '1700000000', ...env },
  };
  return { ctx, lines, log };
}

async function failure(p: Promise<unknown>): Promise<ReleaseError> {
  try {
    await p;
  } catch (e) {
    if (isReleaseError(e)) return e;
    throw e;
  }
  throw new Error('expected a ReleaseError');
}

describe('pnpm release sbom', () => {
  test('builds the example images and writes one validated SBOM each', async () => {
    const dir = join(out, 'json');
    const { ctx, lines } = context();
    await run(['--collection', 'example', '--images', 'hello,toolbox', '--out', dir, '--json'], ctx);
    const result = JSON.parse(lines.join('\n')) as { images: { name: string; path: string; components: number; digest: string; quality: { withPurl: number } }[] };
    expect(result.images.map((i) => i.name)).toEqual(['hello', 'toolbox']);
    expect((await readdir(dir)).sort()).toEqual(['.nixrel-output', 'hello.cdx.json', 'toolbox.cdx.json']);
    for (const image of result.images) {
      expect(image.path).toBe(join(dir, `${image.name}.cdx.json`));
      expect(image.components).toBeGreaterThan(0);
      expect(image.quality.withPurl).toBe(1);
      const text = await readFile(image.path, 'utf8');
      await validateBom(text);
      expect(JSON.parse(text).metadata.timestamp).toBe('2023-11-14T22:13:20.000Z');
    }

    // Again, as text: same bytes, counts and the quality report printed.
    const again = context();
    await run(['--collection', 'example', '--images', 'hello', '--out', join(out, 'text')], again.ctx);
    expect(await readFile(join(out, 'text', 'hello.cdx.json'), 'utf8')).toBe(await readFile(join(dir, 'hello.cdx.json'), 'utf8'));
    const printed = again.lines.join('\n');
    expect(printed).toMatch(/^hello: \d+ components -> .*hello\.cdx\.json/);
    expect(printed).toMatch(/licence \d+%, purl 100%, hash 100%, supplier \d+%, version \d+%/);
    expect(printed).toMatch(/NTIA minimum elements/);

    // A directory the tool wrote (it carries the marker) is written again.
    await run(['--collection', 'example', '--images', 'hello', '--out', dir], context().ctx);
    expect((await readdir(dir)).sort()).toEqual(['.nixrel-output', 'hello.cdx.json', 'toolbox.cdx.json']);
  }, 60_000);

  test.each([
    [['--collection', 'example', '--colour', 'red'], 'USAGE', /Unknown option '--colour'/],
    [['--images', ''], 'USAGE', /--images needs at least one name/],
    [[], 'USAGE', /name a collection/],
    [['--collection', 'example', '--images', 'nope'], 'NOT_FOUND', /unknown image "nope" in collection "example"/],
    [['--collection', 'nowhere'], 'NOT_FOUND', /unknown collection "nowhere"/],
  ])('%j fails with %s and writes nothing', async (args, code, message) => {
    const dir = join(out, `bad-${code}-${Math.random().toString(16).slice(2)}`);
    const e = await failure(run([...args, '--out', dir], context().ctx));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  test('--out that is not the tool\'s to write (not empty and unmarked, the repository, its parent, /, home) is refused before anything is built', async () => {
    const foreign = join(out, 'foreign');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'hello.cdx.json'), 'mine');
    for (const [dir, why] of [
      [foreign, /it is not empty and was not written by this tool \(no \.nixrel-output in it\)/],
      [resolve(REPO_ROOT), /it is the repository root/],
      [dirname(resolve(REPO_ROOT)), /it contains the repository/],
      ['/', /it is the filesystem root/],
      [homedir(), /it is the home directory/],
    ] as const) {
      const { ctx, lines } = context();
      const e = await failure(run(['--collection', 'example', '--images', 'hello', '--out', dir], ctx));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain(`refusing to write into ${dir}`);
      expect(e.message).toMatch(why);
      expect(e.message).toMatch(/Pass --out a new or empty directory/);
      expect(lines).toEqual([]);
    }
    expect(await readFile(join(foreign, 'hello.cdx.json'), 'utf8')).toBe('mine');
  });

  test('--out under a file is an IO_ERROR naming the path, printed without a stack, before anything is built', async () => {
    const file = join(out, 'a-file');
    await writeFile(file, 'x');
    const { ctx, lines } = context();
    const e = await run(['--collection', 'example', '--images', 'hello', '--out', join(file, 'sboms')], ctx).then(
      () => undefined,
      (x: unknown) => x,
    );
    const printed = describeFailure(e);
    expect(printed.exitCode).toBe(EXIT_CODES.IO_ERROR);
    expect(printed.text).toContain(`${join(file, 'sboms')}: a part of the path is a file, not a directory`);
    expect(printed.text).not.toMatch(/\n\s+at /);
    expect(lines).toEqual([]);
  });

  test('a bad SOURCE_DATE_EPOCH fails before anything is built or written', async () => {
    const dir = join(out, 'bad-epoch');
    const e = await failure(run(['--collection', 'example', '--images', 'hello', '--out', dir], context({ SOURCE_DATE_EPOCH: 'now' }).ctx));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got "now"/);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });
});
