/**
 * The handlebars environments for the two outputs. Templates live in
 * ../templates (next to src/ and dist/ alike) and are compiled once.
 * Each output has its own environment so that Markdown helpers can never
 * leak into the HTML page or the other way round.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import type { Fact } from './facts.js';
import { mdCodeBlock, mdDestination, mdText, yamlScalar } from './markdown.js';
import type { PageModel } from './page-model.js';
import type { SiteIndex } from './site-index.js';

const TEMPLATE_DIR = new URL('../templates/', import.meta.url);

function readTemplate(name: string): string {
  return readFileSync(new URL(name, TEMPLATE_DIR), 'utf8');
}

const COMPILE_OPTIONS = { preventIndent: true, knownHelpersOnly: false } as const;

let html: HandlebarsTemplateDelegate | undefined;
let markdown: HandlebarsTemplateDelegate | undefined;
let assets: { css: string; script: string; scriptHash: string } | undefined;

function htmlTemplate(): HandlebarsTemplateDelegate {
  if (!html) {
    const env = Handlebars.create();
    env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    html = env.compile(readTemplate('page.html.hbs'), COMPILE_OPTIONS);
  }
  return html;
}

function markdownTemplate(): HandlebarsTemplateDelegate {
  if (!markdown) {
    const env = Handlebars.create();
    const safe = (s: string) => new env.SafeString(s);
    const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
    env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    env.registerHelper('md', (v: unknown) => safe(mdText(str(v))));
    env.registerHelper('yaml', (v: unknown) => safe(yamlScalar(str(v))));
    env.registerHelper('code', (v: unknown) => safe(mdCodeBlock(str(v))));
    // `{#id}` after a heading: the explicit heading id Hugo and Docusaurus understand.
    env.registerHelper('headingId', (v: unknown) => safe(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(str(v)) ? `{#${str(v)}}` : ''));
    env.registerHelper('link', (fact: Fact | undefined) => {
      if (!fact) return '';
      if (fact.missing !== undefined) return safe('not recorded');
      const label = mdText(fact.text ?? '');
      return safe(fact.href ? `[${label}](${mdDestination(fact.href)})` : label);
    });
    markdown = env.compile(readTemplate('provenance.md.hbs'), COMPILE_OPTIONS);
  }
  return markdown;
}

function pageAssets() {
  if (!assets) {
    const script = readTemplate('copy.js');
    // The page's Content-Security-Policy allows exactly this script and no other.
    const scriptHash = `sha256-${createHash('sha256').update(script).digest('base64')}`;
    assets = { css: readTemplate('page.css'), script, scriptHash };
  }
  return assets;
}

let siteIndex: HandlebarsTemplateDelegate | undefined;
let latest: HandlebarsTemplateDelegate | undefined;

function plainHtml(name: string): HandlebarsTemplateDelegate {
  const env = Handlebars.create();
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  return env.compile(readTemplate(name), COMPILE_OPTIONS);
}

/** The site's front page: every release, newest first. Same stylesheet as the release pages. */
export function renderSiteIndex(index: SiteIndex): string {
  siteIndex ??= plainHtml('site-index.html.hbs');
  return siteIndex({ index, css: pageAssets().css });
}

/** `<collection>/latest/`: a page that sends the reader on to the newest release. */
export function renderLatest(target: { collection: string; version: string; href: string }): string {
  latest ??= plainHtml('latest.html.hbs');
  return latest(target);
}

export function renderHtml(page: PageModel): string {
  const { css, script, scriptHash } = pageAssets();
  return htmlTemplate()({ page, css, script, scriptHash });
}

export function renderMarkdown(page: PageModel): string {
  return markdownTemplate()({ page });
}
