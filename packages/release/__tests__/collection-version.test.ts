import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRepo } from './image-test-helpers.js';
import { releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);
const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');

describe('the collection version', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    repo = await scratchRepo({ git: true });
  });
  afterAll(() => repo?.cleanup());

  const plan = async () => {
    const r = await runCliProcess(['release', 'plan', '--collection', 'example', '--json'], { cwd: repo.dir, env: releaseEnv() });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { version: string };
  };

  it('follows the first image by name when none is marked', async () => {
    // greeter 1.0.0 comes first among greeter, hello, toolbox.
    expect((await plan()).version).toBe(`example-v1.0.0-${today}.1`);
  });

  it('follows the image marked "appVersion": true, and counts build numbers already tagged', async () => {
    const pkgPath = join(repo.dir, 'examples', 'images', 'hello', 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { image: Record<string, unknown> };
    pkg.image.appVersion = true;
    await writeFile(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    const git = (args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo.dir });
    await git(['commit', '-qam', 'hello lends its version']);
    await git(['tag', `example-v2.12.1-${today}.1`]);
    await git(['tag', `example-v2.12.1-${today}.4`]);
    expect((await plan()).version).toBe(`example-v2.12.1-${today}.5`);
  });
});
