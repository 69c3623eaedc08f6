import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@nixrel/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentReporter } from '../src/progress.js';
import { prepareRelease } from '../src/release-context.js';
import { evaluateImages } from '../src/stages/build.js';
import { resolveVersion } from '../src/versioning.js';
import { scratchRepo } from './image-test-helpers.js';
import { releaseEnv } from './release-helpers.js';

const run = promisify(execFile);
// The clock is frozen one second before midnight UTC: the version names this day, however long the build takes.
const NOW = new Date('2026-03-04T23:59:59Z');
const DAY = '20260304';

describe('the collection version', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    repo = await scratchRepo({ git: true });
  });
  afterAll(() => repo?.cleanup());
  afterEach(() => {
    vi.useRealTimers();
  });

  // What `pnpm release plan` does: one evaluation, then the version.
  const plan = async () => {
    const env = releaseEnv();
    const logger = createLogger({ level: 'error', write: () => {} });
    const base = await prepareRelease({ repoRoot: repo.dir, collection: 'example', signer: {}, env, logger, progress: silentReporter() });
    const evaluated = await evaluateImages(base.specs, { repoRoot: repo.dir, logger, env: base.nixEnv });
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    return resolveVersion(base, new Map(evaluated.map((e) => [e.name, e.version])));
  };

  it('follows the first image by name when none is marked', async () => {
    // greeter 1.0.0 comes first among greeter, hello, toolbox.
    expect(await plan()).toBe(`example-v1.0.0-${DAY}.1`);
  });

  it('follows the image marked "appVersion": true, and counts build numbers already tagged', async () => {
    const pkgPath = join(repo.dir, 'examples', 'images', 'hello', 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { image: Record<string, unknown> };
    pkg.image.appVersion = true;
    await writeFile(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    const git = (args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo.dir });
    await git(['commit', '-qam', 'hello lends its version']);
    await git(['tag', `example-v2.12.1-${DAY}.1`]);
    await git(['tag', `example-v2.12.1-${DAY}.4`]);
    // A tag of the next day is another day's build number.
    await git(['tag', `example-v2.12.1-20260305.9`]);
    expect(await plan()).toBe(`example-v2.12.1-${DAY}.5`);
  });
});
