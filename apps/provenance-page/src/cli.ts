#!/usr/bin/env node
// `pnpm page --manifest FILE --out DIR [--strict] [--json] [--base-path P]`:
// renders the provenance page of a release.
// `pnpm page index --site DIR [--json]`: the site's front page and latest/ links.
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describeFailure, ReleaseError } from '@nixrel/core';
import { renderPage } from './render-page.js';
import { writeSiteIndex } from './site-index.js';

const USAGE = 'usage: pnpm page --manifest FILE --out DIR [--strict] [--json] [--base-path PATH]\n       pnpm page index --site DIR [--json]';
const INDEX_USAGE =
  'usage: pnpm page index --site DIR [--json]\n  writes DIR/index.html (every release under DIR/<collection>/<version>/, newest first) and DIR/<collection>/latest/';

const PAGE_FLAGS = {
  manifest: { type: 'string' },
  out: { type: 'string' },
  strict: { type: 'boolean' },
  json: { type: 'boolean' },
  'base-path': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
const INDEX_FLAGS = { site: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

function parse<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const unknownCommand = /Unexpected argument '([^']*)'/.exec((e as Error).message)?.[1];
    const message = unknownCommand ? `unknown command "${unknownCommand}"; commands: pnpm page (render one release), pnpm page index` : (e as Error).message;
    throw new ReleaseError('USAGE', `${message}\n${usage}`, { cause: e });
  }
}

async function page(argv: string[], cwd: string): Promise<void> {
  const values = parse(argv, PAGE_FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.manifest) throw new ReleaseError('USAGE', `--manifest is required\n${USAGE}`);
  if (!values.out) throw new ReleaseError('USAGE', `--out is required\n${USAGE}`);
  const opts: Parameters<typeof renderPage>[0] = {
    manifestPath: resolve(cwd, values.manifest),
    outDir: resolve(cwd, values.out),
    strict: values.strict ?? false,
  };
  if (values['base-path'] !== undefined) opts.basePath = values['base-path'];
  const result = await renderPage(opts);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ outDir: opts.outDir, files: result.files, missing: result.missing }, null, 2)}\n`);
  } else {
    process.stdout.write(`wrote ${result.files.length} files to ${opts.outDir}\n`);
    if (result.missing.length > 0) process.stdout.write(`${result.missing.length} facts not recorded (listed on the page)\n`);
  }
}

async function index(argv: string[], cwd: string): Promise<void> {
  const values = parse(argv, INDEX_FLAGS, INDEX_USAGE);
  if (values.help) {
    process.stdout.write(`${INDEX_USAGE}\n`);
    return;
  }
  if (!values.site) throw new ReleaseError('USAGE', `--site is required\n${INDEX_USAGE}`);
  const site = resolve(cwd, values.site);
  const { index: found, files } = await writeSiteIndex(site);
  if (values.json) process.stdout.write(`${JSON.stringify({ site, files, releases: found.releases }, null, 2)}\n`);
  else process.stdout.write(`wrote ${site}/index.html: ${found.releases.length} releases of ${found.collections.length} collections\n`);
}

export async function main(argv: string[], cwd = process.env.INIT_CWD ?? process.cwd()): Promise<number> {
  try {
    if (argv[0] === 'index') await index(argv.slice(1), cwd);
    else await page(argv, cwd);
    return 0;
  } catch (e) {
    const failure = describeFailure(e);
    process.stderr.write(failure.text);
    return failure.exitCode;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
