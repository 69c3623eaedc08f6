// Runs a compiled command (`node scripts/run.mjs <dist entry> [args]`), as the
// root package.json scripts do. The workspace is built at set-up; here a stale
// build is detected cheaply (the newest mtime of the TypeScript sources against
// the one recorded at the last build) and `tsc -b` runs only when sources
// changed. The command then runs in this same process, with no second start-up.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
// The projects the commands are built from; tsc -b follows their references.
const PROJECTS = ['packages/release', 'apps/provenance-page'];
const stamp = join(root, 'node_modules', '.cache', 'nixrel-build.json');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The newest mtime among every workspace package's sources, tsconfig.json and package.json. */
function sourcesMtime() {
  let newest = statSync(join(root, 'tsconfig.base.json')).mtimeMs;
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) {
      const pkg = join(root, group, name);
      if (!existsSync(join(pkg, 'tsconfig.json'))) continue;
      newest = Math.max(newest, statSync(join(pkg, 'tsconfig.json')).mtimeMs, statSync(join(pkg, 'package.json')).mtimeMs);
      if (existsSync(join(pkg, 'src'))) newest = Math.max(newest, newestMtime(join(pkg, 'src')));
    }
  }
  return newest;
}

function builtFrom() {
  try {
    return JSON.parse(readFileSync(stamp, 'utf8')).sourcesMtime;
  } catch {
    return undefined;
  }
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run.mjs <dist entry> [args]\n');
  process.exit(2);
}
const entryPath = resolve(root, entry);
const mtime = sourcesMtime();
if (builtFrom() !== mtime || !existsSync(entryPath)) {
  const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b', ...PROJECTS], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) {
    process.stderr.write('build failed: fix the errors above, or run pnpm run build\n');
    process.exit(tsc.status ?? 1);
  }
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  writeFileSync(stamp, `${JSON.stringify({ sourcesMtime: mtime })}\n`);
}
process.argv = [process.argv[0], entryPath, ...args];
await import(pathToFileURL(entryPath).href);
