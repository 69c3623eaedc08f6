import { marked } from 'marked';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderPage } from '../src/index.js';
import { mdCodeBlock, mdText } from '../src/markdown.js';
import { fixtureRelease, HOSTILE, makeHostile, parsePage, type TestRelease } from './helpers.js';

let release: TestRelease | undefined;
afterEach(async () => {
  await release?.cleanup();
  release = undefined;
});

/** Rendered Markdown as a document (marked gives a body fragment). */
function mdDoc(html: string) {
  return parsePage(`<!doctype html><html><body>${html}</body></html>`);
}

function splitFrontMatter(markdown: string) {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(markdown);
  expect(m, 'front matter').not.toBeNull();
  return { front: parseYaml(m![1]!) as Record<string, unknown>, body: m![2]! };
}

describe('provenance.md', () => {
  it('has front matter and the same sections and image rows as the HTML page', async () => {
    release = await fixtureRelease('keyless');
    const { markdown, indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const { front, body } = splitFrontMatter(markdown);
    expect(front).toEqual({
      title: 'sbomify sbomify-v26.1.0-20260405.6: release provenance',
      date: '2026-04-05T14:03:27Z',
      collection: 'sbomify',
      version: 'sbomify-v26.1.0-20260405.6',
    });
    const md = mdDoc(await marked.parse(body, { gfm: true }));
    const html = parsePage(indexHtml);
    const mdH2 = [...md.querySelectorAll('h2')].map((h) => h.textContent);
    const htmlH2 = [...html.querySelectorAll('h2')].map((h) => h.textContent);
    expect(mdH2).toEqual(htmlH2);

    // One heading per image, followed by its facts with the SBOM linked.
    for (const image of release.manifest.images) {
      const h3 = [...md.querySelectorAll('h3')].find((h) => h.textContent!.startsWith(`${image.name} `))!;
      expect(h3, image.name).toBeDefined();
      let facts = h3.nextElementSibling;
      while (facts && facts.tagName !== 'UL') facts = facts.nextElementSibling;
      expect(facts!.textContent).toContain(image.digest!);
      expect(facts!.textContent).toContain('Verified: not verified when rendered');
      expect([...facts!.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toContain(image.sbom!.path);
    }
    const summary = md.querySelector('table')!;
    expect(summary.textContent).toContain('Build L3');
    expect(summary.textContent).toContain('5 of 7, 1 differ');
    // Commands are fenced code blocks, same text as on the HTML page.
    const mdCode = [...md.querySelectorAll('pre code')].map((c) => c.textContent!.replace(/\n$/, ''));
    const htmlCode = [...html.querySelectorAll('pre code')].map((c) => c.textContent!);
    expect(mdCode).toEqual(htmlCode);
  });

  it('prefixes file links with basePath for docs sites', async () => {
    release = await fixtureRelease('keyless');
    const { markdown, indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, basePath: '/packages/releases/v1/' });
    const md = mdDoc(await marked.parse(splitFrontMatter(markdown).body));
    expect(md.querySelector('a[href="/packages/releases/v1/sbom/postgres.cdx.json"]')).not.toBeNull();
    // The HTML page keeps relative links.
    expect(parsePage(indexHtml).querySelector('a[href="sbom/postgres.cdx.json"]')).not.toBeNull();
  });

  it('escapes hostile strings: no HTML, no javascript: links, literal text', async () => {
    release = await fixtureRelease('keyless', makeHostile);
    const { markdown } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const { front, body } = splitFrontMatter(markdown);
    expect(typeof front.title).toBe('string');
    const doc = mdDoc(await marked.parse(body, { gfm: true }));
    expect(doc.querySelectorAll('script, img, iframe')).toHaveLength(0);
    for (const el of doc.querySelectorAll('*')) for (const attr of el.attributes) expect(attr.name.startsWith('on')).toBe(false);
    for (const a of doc.querySelectorAll('[href]')) expect(a.getAttribute('href')!.toLowerCase()).not.toMatch(/^(javascript|data|vbscript):/);
    const text = doc.body.textContent!;
    for (const s of [HOSTILE.script, HOSTILE.mustache, HOSTILE.jsUrl, HOSTILE.mdLink, HOSTILE.html]) expect(text).toContain(s);
    // The multi-line reason stayed inside its list item: no heading or table was injected.
    expect([...doc.querySelectorAll('h1')]).toHaveLength(1);
    expect(text).toContain('| a | b | # heading ```');
  });
});

describe('Markdown escaping', () => {
  it('keeps any text literal through a CommonMark renderer', async () => {
    for (const s of ['*a* _b_ `c` [d](e) <f> & {g} | h # i ~j~ \\k', '1. not a list', '- not a list', '![img](x)', '<!-- c -->', '{{< shortcode >}}']) {
      const html = await marked.parseInline(mdText(s));
      expect(parsePage(`<p>${html}</p>`).querySelector('p')!.textContent).toBe(s);
    }
  });

  it('fences code longer than any backtick run inside it', async () => {
    const code = 'echo ```` done';
    const doc = mdDoc(await marked.parse(mdCodeBlock(code)));
    expect(doc.querySelector('pre code')!.textContent).toBe(`${code}\n`);
  });
});
