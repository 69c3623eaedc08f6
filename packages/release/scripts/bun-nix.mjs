#!/usr/bin/env node
// Writes the bun.nix of a bun.lock with bun2nix's own converter (the npm
// package's wasm build, the version of the bun2nix flake input), so the image
// needs no bun.nix generated at evaluation time (import from derivation).
//   node packages/release/scripts/bun-nix.mjs <bun.lock> [<bun.nix>]     (stdout without a second argument)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The bun.nix text bun2nix writes for the lock file's contents. */
export function bunNix(lockText) {
  const require = createRequire(import.meta.url);
  const glue = require.resolve('bun2nix/bun2nix-wasm.js');
  // The glue is CommonJS inside a "type": "module" package: run it as CommonJS.
  const module = { exports: {} };
  new Function('module', 'exports', 'require', '__dirname', readFileSync(glue, 'utf8'))(module, module.exports, require, dirname(glue));
  const { convert_lockfile_to_nix_expression, Options } = module.exports;
  return `${convert_lockfile_to_nix_expression(lockText, new Options('./'))}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [lock, out] = process.argv.slice(2);
  if (!lock || lock === '--help') {
    console.log('usage: node packages/release/scripts/bun-nix.mjs <bun.lock> [<bun.nix>]');
    process.exit(lock ? 0 : 2);
  }
  const text = bunNix(readFileSync(lock, 'utf8'));
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}
