import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureRelease, listFiles, type TestRelease } from './helpers.js';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const TSX = createRequire(import.meta.url).resolve('tsx/cli');

function page(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, '--conditions=source', CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let release: TestRelease | undefined;
afterEach(async () => {
  await release?.cleanup();
  release = undefined;
});

describe('pnpm page', () => {
  it('renders with --strict --json and prints the files written', async () => {
    release = await fixtureRelease('keyless');
    const r = await page(['--manifest', release.manifestPath, '--out', release.outDir, '--strict', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.files).toContain('index.html');
    // Not checked for reproducibility (one image), and not verified when rendered.
    expect(out.missing.map((m: { fact: string }) => m.fact)).toEqual(['reproducibility', 'verification']);
    expect(await listFiles(release.outDir)).toContain('provenance.md');
  });

  it('exits 17 with the schema errors on an invalid manifest, writing nothing', async () => {
    release = await fixtureRelease('keyless');
    const raw = JSON.parse(await readFile(release.manifestPath, 'utf8'));
    raw.schemaVersion = 2;
    await writeFile(release.manifestPath, JSON.stringify(raw));
    const r = await page(['--manifest', release.manifestPath, '--out', release.outDir]);
    expect(r.code).toBe(17);
    expect(r.stderr).toContain(`error: release manifest ${release.manifestPath} does not match the release manifest schema`);
    expect(r.stderr).toContain('/schemaVersion: must be equal to constant');
    expect(await listFiles(release.outDir)).toEqual([]);
  });

  it('exits 3 under --strict listing every missing required fact', async () => {
    release = await fixtureRelease('keyless', (m) => {
      delete m.images[0]!.provenance;
      delete m.images[0]!.stages.provenance;
    });
    const r = await page(['--manifest', release.manifestPath, '--out', release.outDir, '--strict']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('lacks 1 required fact');
    expect(r.stderr).toContain('postgres: provenance: no provenance: provenance stage has not run');
    expect(await listFiles(release.outDir)).toEqual([]);
  });

  it('exits 2 on usage errors', async () => {
    expect((await page(['--out', '/tmp/x'])).code).toBe(2);
    const r = await page(['--manifest', 'a.json', '--out', 'b', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it('answers --help and -h for the page and for index, exit 0', async () => {
    const runs = await Promise.all([['--help'], ['-h'], ['index', '--help'], ['index', '-h']].map((args) => page(args)));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(runs[0]!.stdout).toBe('usage: pnpm page --manifest FILE --out DIR [--strict] [--json] [--base-path PATH]\n       pnpm page index --site DIR [--json]\n');
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout);
    expect(runs[2]!.stdout).toMatch(/^usage: pnpm page index --site DIR \[--json\]\n/);
    expect(runs[3]!.stdout).toBe(runs[2]!.stdout);
  });

  it('an unknown command lists the commands, exit 2', async () => {
    const r = await page(['publish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown command "publish"; commands: pnpm page \(render one release\), pnpm page index\n/);
  });
});
