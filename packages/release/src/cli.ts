#!/usr/bin/env node
// Entry point of every root script: `pnpm images`, `pnpm release [sub]`,
// `pnpm new-image`, `pnpm verify`. Each command lives in commands/<name>.ts.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createLogger, describeFailure, ReleaseError } from '@nixrel/core';
import type { CliContext, Command } from './cli-context.js';

const COMMANDS: Record<string, () => Promise<{ run: Command; USAGE: string }>> = {
  images: () => import('./commands/images.js'),
  'new-image': () => import('./commands/new-image.js'),
  build: () => import('./commands/build.js'),
  push: () => import('./commands/push.js'),
  sbom: () => import('./commands/sbom.js'),
  attest: () => import('./commands/attest.js'),
  verify: () => import('./commands/verify.js'),
  release: () => import('./commands/release.js'),
  plan: () => import('./commands/plan.js'),
  image: () => import('./commands/image.js'),
  'attest-all': () => import('./commands/attest-all.js'),
  collect: () => import('./commands/collect.js'),
  reproduce: () => import('./commands/reproduce.js'),
  diff: () => import('./commands/diff.js'),
};

// `pnpm release <sub>` arrives as `release <sub> ...`; a bare `pnpm release` (or
// one followed by flags) is the full release.
const RELEASE_SUBCOMMANDS = new Set(['build', 'push', 'sbom', 'attest', 'plan', 'image', 'attest-all', 'collect', 'reproduce', 'diff']);

function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new ReleaseError('NOT_FOUND', `no pnpm-workspace.yaml above ${start}: run inside the repository`);
    dir = up;
  }
}

export async function main(argv: string[]): Promise<number> {
  const logger = createLogger();
  let [word, ...rest] = argv;
  if (word === 'release' && rest[0] && RELEASE_SUBCOMMANDS.has(rest[0])) [word, ...rest] = rest;
  try {
    const load = word ? COMMANDS[word] : undefined;
    if (!word || !load) {
      throw new ReleaseError('USAGE', `unknown command "${word ?? ''}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    }
    if (word === 'release' && rest[0] && !rest[0].startsWith('-')) {
      throw new ReleaseError('USAGE', `unknown subcommand "${rest[0]}" of pnpm release; subcommands: ${[...RELEASE_SUBCOMMANDS].join(', ')}`);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      const { USAGE } = await load();
      const subcommands = word === 'release' ? `\nsubcommands: ${[...RELEASE_SUBCOMMANDS].join(', ')} (pnpm release <subcommand> --help)` : '';
      process.stdout.write(`${USAGE}${subcommands}\n`);
      return 0;
    }
    const ctx: CliContext = {
      repoRoot: findRepoRoot(process.env.INIT_CWD ?? process.cwd()),
      out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
      logger,
      env: process.env,
    };
    const { run } = await load();
    await run(rest, ctx);
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
