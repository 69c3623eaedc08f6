import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPage } from '../src/index.js';
import { fixtureRelease, fixtureReport, parsePage, type TestRelease } from './helpers.js';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const TSX = createRequire(import.meta.url).resolve('tsx/cli');

function page(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, '--conditions=source', CLI, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('pnpm page index --site DIR', () => {
  let site: string;
  const releases: TestRelease[] = [];

  beforeAll(async () => {
    site = await mkdtemp(join(tmpdir(), 'provenance-site-'));
    const specs: { collection: string; version: string; date: string; verified: boolean; images?: number }[] = [
      { collection: 'sbomify', version: 'sbomify-v26.1.0-20260405.6', date: '2026-04-05T14:03:27Z', verified: false },
      { collection: 'sbomify', version: 'sbomify-v26.1.1-20260502.1', date: '2026-05-02T09:00:00Z', verified: true },
      { collection: 'example', version: 'example-v1.0.0-20260420.1', date: '2026-04-20T12:00:00Z', verified: true, images: 3 },
    ];
    for (const s of specs) {
      const r = await fixtureRelease('keyless', (m) => {
        m.collection = s.collection;
        m.version = s.version;
        m.date = s.date;
        if (s.images) m.images = m.images.slice(0, s.images);
        if (s.collection === 'example') for (const i of m.images) delete i.reproducibility;
        for (const i of m.images) i.collection = s.collection;
      });
      releases.push(r);
      await renderPage({ manifestPath: r.manifestPath, outDir: join(site, s.collection, s.version), ...(s.verified ? { verification: fixtureReport(r.manifest) } : {}) });
    }
  });
  afterAll(async () => {
    await rm(site, { recursive: true, force: true });
    for (const r of releases) await r.cleanup();
  });

  it('lists every release of every collection, newest first, with date, images, level, verification and reproducibility', async () => {
    const r = await page(['index', '--site', site]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${site}/index.html: 3 releases of 2 collections\n`);
    const doc = parsePage(await readFile(join(site, 'index.html'), 'utf8'));
    const rows = [...doc.querySelectorAll('ol.releases li')].map((li) => [li.querySelector('a')!.getAttribute('href'), li.querySelector('.sub')!.textContent]);
    expect(rows).toEqual([
      ['sbomify/sbomify-v26.1.1-20260502.1/', '2026-05-02 09:00 UTC · 7 images · SLSA Build L3 · 7 of 7 verified · 5 of 7 reproduced, 1 differ'],
      ['example/example-v1.0.0-20260420.1/', '2026-04-20 12:00 UTC · 3 images · SLSA Build L3 · 3 of 3 verified · reproducibility not checked'],
      ['sbomify/sbomify-v26.1.0-20260405.6/', '2026-04-05 14:03 UTC · 7 images · SLSA Build L3 · not verified when rendered · 5 of 7 reproduced, 1 differ'],
    ]);
    expect([...doc.querySelectorAll('header a')].map((a) => a.getAttribute('href'))).toEqual(['example/latest/', 'sbomify/latest/']);
    // Every link leads to a page that exists.
    for (const [href] of rows) expect((await readFile(join(site, href!, 'index.html'), 'utf8')).length).toBeGreaterThan(0);
  });

  it('points <collection>/latest/ at the newest release of that collection', async () => {
    await page(['index', '--site', site]);
    const latest = parsePage(await readFile(join(site, 'sbomify', 'latest', 'index.html'), 'utf8'));
    expect(latest.querySelector('meta[http-equiv="refresh"]')!.getAttribute('content')).toBe('0; url=../sbomify-v26.1.1-20260502.1/');
    expect(latest.querySelector('a')!.getAttribute('href')).toBe('../sbomify-v26.1.1-20260502.1/');
    const example = parsePage(await readFile(join(site, 'example', 'latest', 'index.html'), 'utf8'));
    expect(example.querySelector('a')!.getAttribute('href')).toBe('../example-v1.0.0-20260420.1/');
  });

  it('refuses a site with no release pages, and a missing directory, naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'provenance-site-empty-'));
    try {
      await mkdir(join(empty, 'sbomify', 'latest'), { recursive: true });
      const r = await page(['index', '--site', empty]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`no release pages under ${empty}`);
      const missing = await page(['index', '--site', join(empty, 'nope')]);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toContain(`site directory not found: ${join(empty, 'nope')}`);
      const usage = await page(['index']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--site is required');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
