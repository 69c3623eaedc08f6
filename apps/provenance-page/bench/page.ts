/**
 * Renders the provenance page of a 100-image release and asserts it takes
 * under 1 s. For scale, the same run times what publishing the raw release
 * directory without a page costs (`cp -r`, what a user would do instead).
 *
 *   cd apps/provenance-page && npx tsx --conditions=source bench/page.ts
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ImageRecord, ReleaseManifest } from '@nixrel/core';
import { renderPage } from '../src/index.js';

const IMAGES = 100;
const RUNS = 5;
const LIMIT_MS = 1000;
const FIXTURE = new URL('../__tests__/fixtures/keyless/', import.meta.url).pathname;

async function bigRelease(dir: string): Promise<string> {
  await cp(FIXTURE, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as ReleaseManifest;
  const templates = manifest.images;
  const images: ImageRecord[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const image = structuredClone(templates[i % templates.length]!);
    image.name = `${image.name}-${i}`;
    image.digest = `sha256:${i.toString(16).padStart(64, '0')}`;
    images.push(image);
  }
  manifest.images = images;
  const path = join(dir, 'release.json');
  await writeFile(path, JSON.stringify(manifest, null, 2));
  return path;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const root = await mkdtemp(join(tmpdir(), 'page-bench-'));
try {
  const manifestPath = await bigRelease(join(root, 'release'));
  const renders: number[] = [];
  const copies: number[] = [];
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const out = join(root, `site-${run}`);
    const t0 = performance.now();
    const result = await renderPage({ manifestPath, outDir: out, strict: true });
    renders.push(performance.now() - t0);
    size = result.indexHtml.length;
    const t1 = performance.now();
    execFileSync('cp', ['-r', join(root, 'release'), join(root, `copy-${run}`)]);
    copies.push(performance.now() - t1);
  }
  const render = median(renders);
  const copy = median(copies);
  process.stdout.write(
    `renderPage, ${IMAGES} images (strict, files checked and copied): median ${render.toFixed(0)} ms over ${RUNS} runs ` +
      `(first ${renders[0]!.toFixed(0)} ms, template compile included); index.html ${(size / 1024).toFixed(0)} KiB\n` +
      `cp -r of the same release directory (no page): median ${copy.toFixed(0)} ms; ratio renderPage / cp -r = ${(render / copy).toFixed(1)}x\n`,
  );
  if (renders[0]! >= LIMIT_MS) {
    process.stderr.write(`FAIL: rendering ${IMAGES} images took ${renders[0]!.toFixed(0)} ms (limit ${LIMIT_MS} ms)\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`ok: under ${LIMIT_MS} ms\n`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
