/// <reference lib="dom" />
/**
 * The rendered page in a real headless Chromium, served under a sub-path the
 * way GitHub Pages serves a project site, from a loopback HTTP server.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPage } from '../src/index.js';
import { fixtureDiff, fixtureRelease, fixtureReport, makeHostile, type TestRelease } from './helpers.js';

const ARTIFACTS = new URL('../test-artifacts/', import.meta.url).pathname;
const SUB_PATH = '/packages/v1/';
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.md': 'text/markdown', '.pub': 'text/plain' };

/** Serves each directory under its URL prefix (e.g. `/packages/v1/`); anything else is a 404. */
function serve(mounts: Record<string, string>): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
    const rel = prefix ? normalize(path.slice(prefix.length) || 'index.html') : '..';
    if (!prefix || rel.startsWith('..')) return void res.writeHead(404).end();
    const file = join(mounts[prefix]!, rel);
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let keyless: TestRelease;
let hostile: TestRelease;
let three: TestRelease;
let server: Server;
let origin: string;
let userDataDir: string;
let context: BrowserContext;

beforeAll(async () => {
  keyless = await fixtureRelease('keyless');
  hostile = await fixtureRelease('keyless', makeHostile);
  three = await fixtureRelease('keyless', (m) => {
    m.images = m.images.slice(0, 3);
  });
  // Seven images, verified when rendered, with what changed since the previous release.
  await renderPage({ manifestPath: keyless.manifestPath, outDir: keyless.outDir, verification: fixtureReport(keyless.manifest), diff: fixtureDiff(keyless.manifest) });
  await renderPage({ manifestPath: three.manifestPath, outDir: three.outDir, verification: fixtureReport(three.manifest), diff: fixtureDiff(three.manifest) });
  await renderPage({ manifestPath: hostile.manifestPath, outDir: hostile.outDir });
  ({ server, origin } = await serve({ [SUB_PATH]: keyless.outDir, '/three/v1/': three.outDir, '/hostile/v1/': hostile.outDir }));
  await mkdir(ARTIFACTS, { recursive: true });
  userDataDir = await mkdtemp(join(tmpdir(), 'provenance-page-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    // Debian's chromium here; CI runners without it point CHROMIUM_PATH at their Chrome.
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await context?.close();
  await new Promise((r) => server?.close(r));
  await rm(userDataDir, { recursive: true, force: true });
  await keyless?.cleanup();
  await hostile?.cleanup();
  await three?.cleanup();
});

/** Opens a page, collecting console errors, page errors, dialogs and every request URL. */
async function open(path: string, viewport: { width: number; height: number }, init?: string) {
  const page: Page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  if (init) await page.addInitScript(init);
  await page.setViewportSize(viewport);
  const response = await page.goto(`${origin}${path}`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  return { page, errors, requests, dialogs };
}

describe('the page in Chromium', () => {
  it('loads under a sub-path with no console errors and no requests beyond its own files', async () => {
    const { page, errors, requests } = await open(`${SUB_PATH}`, { width: 1280, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, 'desktop.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-full.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(url.startsWith(`${origin}${SUB_PATH}`), url).toBe(true);
    // The inline script ran under the page's Content-Security-Policy: copy buttons are shown.
    expect(await page.locator('button.copy:not([hidden])').count()).toBeGreaterThan(10);
    expect(await page.locator('button.copy[hidden]').count()).toBe(0);
    // Every relative link resolves to a file served next to the page.
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')!).filter((h) => !/^(https?:|#)/.test(h)));
    expect(hrefs.length).toBeGreaterThan(20);
    for (const href of new Set(hrefs)) {
      const res = await fetch(new URL(href, `${origin}${SUB_PATH}`));
      expect(res.status, href).toBe(200);
    }
    await page.close();
  });

  it('holds its layout on a phone: no horizontal scrolling, folded or fully open', async () => {
    const { page, errors } = await open(`${SUB_PATH}index.html`, { width: 375, height: 812 });
    await page.screenshot({ path: join(ARTIFACTS, 'phone.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'phone-full.png'), fullPage: true });
    const widths = () => page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, viewport: window.innerWidth }));
    expect(await widths()).toEqual({ doc: 375, body: 375, viewport: 375 });
    await page.evaluate(() => {
      for (const d of document.querySelectorAll('details')) d.open = true;
    });
    expect(await widths()).toEqual({ doc: 375, body: 375, viewport: 375 });
    await page.screenshot({ path: join(ARTIFACTS, 'phone-open-full.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  for (const [label, path, images] of [
    ['7 images', SUB_PATH, 7],
    ['3 images', '/three/v1/', 3],
  ] as const) {
    it(`fits the summary in one screen on desktop and phone, and (7 images) the folded phone page in 3x the desktop summary plus list (${label})`, async () => {
      const measure = async (viewport: { width: number; height: number }, name: string) => {
        const { page, errors } = await open(path, viewport);
        const m = await page.evaluate(() => {
          for (const d of document.querySelectorAll('details')) d.open = false;
          const box = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
          return { page: document.documentElement.scrollHeight, summaryBottom: Math.round(box('#summary').bottom + scrollY), list: Math.round(box('#images').height) };
        });
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${images}-images-folded.png`), fullPage: true });
        expect(errors).toEqual([]);
        await page.close();
        return m;
      };
      const desktop = await measure({ width: 1280, height: 900 }, 'desktop');
      const phone = await measure({ width: 375, height: 812 }, 'phone');
      const target = 3 * (desktop.summaryBottom + desktop.list);
      console.log(`page heights, ${label}: desktop ${desktop.page} px (summary ${desktop.summaryBottom}, folded list ${desktop.list}); phone ${phone.page} px (summary ${phone.summaryBottom}); phone target <= ${target}`);
      expect(desktop.summaryBottom).toBeLessThanOrEqual(900);
      expect(phone.summaryBottom).toBeLessThanOrEqual(812);
      // The target is set for a release of 7 images; smaller releases are reported.
      if (images === 7) expect(phone.page).toBeLessThanOrEqual(target);
    });
  }

  it('copy buttons put the exact command on the clipboard', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    // A link to an image's commands opens its folded entry.
    const { page, errors } = await open(`${SUB_PATH}#verify-image-postgres`, { width: 1280, height: 900 });
    expect(await page.locator('#image-postgres').getAttribute('open')).toBe('');
    const cmd = page.locator('#verify-image-postgres .cmd').nth(1);
    const expected = await cmd.locator('pre code').textContent();
    expect(expected).toContain('cosign verify-attestation --type slsaprovenance1');
    await cmd.locator('button.copy').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(expected);
    expect(await cmd.locator('button.copy').textContent()).toBe('Copied');
    expect(await page.locator('#copy-status').textContent()).toBe('Copied to the clipboard.');
    // The digest's copy button copies the digest.
    await page.locator('#image-postgres button.copy[data-copy="digest-postgres"]').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(errors).toEqual([]);
    await page.close();
    await context.clearPermissions();
  });

  it('falls back to a selected textarea when the Clipboard API is absent', async () => {
    // Hide the Clipboard API; record what the copy event carries instead.
    const init = `
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
      window.__copied = [];
      document.addEventListener('copy', (e) => { window.__copied.push(e.target && 'value' in e.target ? e.target.value : String(getSelection())); });
    `;
    const { page, errors } = await open(`${SUB_PATH}#verification`, { width: 1280, height: 900 }, init);
    const cmd = page.locator('#verification .cmd').first();
    const expected = await cmd.locator('pre code').textContent();
    await cmd.locator('button.copy').click();
    expect(await page.evaluate(() => (window as unknown as { __copied: string[] }).__copied)).toEqual([expected]);
    expect(await cmd.locator('button.copy').textContent()).toBe('Copied');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps hostile manifest strings inert in a real browser', async () => {
    const { page, errors, dialogs, requests } = await open('/hostile/v1/', { width: 1280, height: 900 });
    // Hover and click everything that could carry an injected handler.
    for (const el of await page.locator('#image-postgres, #slsa').all()) await el.hover();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => document.scripts.length)).toBe(1);
    for (const url of requests) expect(url.startsWith(`${origin}/hostile/v1/`), url).toBe(true);
    expect(await page.locator('#image-postgres').textContent()).toContain('<script>alert("pwned")</script>');
    await page.screenshot({ path: join(ARTIFACTS, 'hostile.png') });
    await page.close();
  });
});
