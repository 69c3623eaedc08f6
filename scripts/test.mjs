// Runs every package's tests through turbo, then prints one aggregate closing
// line (`N passed, N failed`) from the JSON results each package wrote, because
// behind turbo no single runner's summary is the last thing printed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';

const root = new URL('..', import.meta.url).pathname;
// zx quotes every argument; nothrow: the exit status is read below, after the summary.
const turbo = await $({
  cwd: root,
  stdio: 'inherit',
  nothrow: true,
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
})`pnpm exec turbo run test --output-logs=new-only ${process.argv.slice(2)}`;

const dirs = ['packages', 'packages/images', 'examples/images', 'apps'].flatMap((d) =>
  existsSync(join(root, d)) ? readdirSync(join(root, d)).map((n) => join(root, d, n)) : [],
);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  const file = join(dir, '.test-results.json');
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
const ok = turbo.exitCode === 0 && failed === 0;
if (turbo.exitCode !== 0 && failed === 0) failed = 1; // a package failed before its tests could report
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : 1);
