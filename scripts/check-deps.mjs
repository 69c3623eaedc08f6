// Fails when a workspace package declares a dependency its files never use,
// or imports a package it does not declare (the root's devDependencies, the
// shared tools, count for every package). Run by `pnpm lint`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const SKIP = new Set(['node_modules', 'dist', '.turbo', 'site', '.release', 'test-artifacts', 'fixtures']);
const SOURCE = /\.(ts|mts|mjs|js|cjs)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      // A nested workspace package is checked on its own.
      if (dir !== root && existsSync(join(path, 'package.json'))) continue;
      yield* files(path);
    } else if (SOURCE.test(name) || name === 'package.json') yield path;
  }
}

/** The package a module specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  // Only what can be a package name (prose such as "from 'rm -rf'" in a string is not).
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/.test(name)) return undefined;
  return builtinModules.includes(name) ? undefined : name;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function workspaceDirs() {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').match(/^\s+-\s+(\S+)\/\*$/gm) ?? [];
  return globs
    .map((g) => g.trim().slice(2, -2))
    .flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).map((n) => join(root, d, n)) : []))
    .filter((d) => existsSync(join(d, 'package.json')));
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const shared = new Set(Object.keys(rootPkg.devDependencies ?? {}));
const problems = [];

for (const dir of workspaceDirs()) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  const used = new Set();
  const text = [];
  for (const file of files(dir)) {
    const content = readFileSync(file, 'utf8');
    if (file.endsWith('package.json')) {
      text.push(JSON.stringify(pkg.scripts ?? {}));
      continue;
    }
    text.push(content);
    for (const m of content.matchAll(IMPORT)) {
      const name = packageOf(m[1]);
      if (name) used.add(name);
    }
  }
  const all = text.join('\n');
  for (const dep of declared) {
    if (used.has(dep)) continue;
    // A types package counts when the package it types is used.
    if (dep.startsWith('@types/') && used.has(dep.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2'))) continue;
    // A tool counts when one of its commands is run (in scripts or by a test).
    const binPath = join(root, 'node_modules', '.pnpm', 'node_modules', dep, 'package.json');
    const depPkg = existsSync(binPath) ? JSON.parse(readFileSync(binPath, 'utf8')) : {};
    const bins = typeof depPkg.bin === 'string' ? [depPkg.name.split('/').pop()] : Object.keys(depPkg.bin ?? {});
    if (bins.some((b) => all.includes(b))) continue;
    problems.push(`${relative(root, dir)}: "${dep}" is declared in package.json but never imported: remove it`);
  }
  for (const name of used) {
    if (declared.includes(name) || shared.has(name) || name === pkg.name) continue;
    problems.push(`${relative(root, dir)}: "${name}" is imported but not declared in its package.json: add it`);
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('dependencies: every declared one is used, every used one is declared\n');
