#!/usr/bin/env node
// `pnpm page --manifest FILE --out DIR [--strict] [--json] [--base-path P]`:
// renders the provenance page of a release.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFailure, ReleaseError } from '@nixrel/core';
import { renderPage } from './render-page.js';

const USAGE = 'usage: pnpm page --manifest FILE --out DIR [--strict] [--json] [--base-path PATH]';

export async function main(argv: string[], cwd = process.env.INIT_CWD ?? process.cwd()): Promise<number> {
  try {
    let values: { manifest?: string; out?: string; strict?: boolean; json?: boolean; 'base-path'?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          manifest: { type: 'string' },
          out: { type: 'string' },
          strict: { type: 'boolean' },
          json: { type: 'boolean' },
          'base-path': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      throw new ReleaseError('USAGE', `${(e as Error).message}\n${USAGE}`, { cause: e });
    }
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
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
      if (result.missing.length > 0) process.stdout.write(`${result.missing.length} facts shown as not available\n`);
    }
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
