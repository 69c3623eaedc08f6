import { spawnSync } from 'node:child_process';
// Runs up.ts (cache hit: upload only) in fresh processes, alternating variants.
const variants: Record<string, Record<string, string>> = JSON.parse(process.argv[2]!);
const reps = Number(process.argv[3] ?? 4);
const res: Record<string, string[]> = {};
for (let i = 0; i < reps; i++) {
  for (const [name, env] of Object.entries(variants)) {
    const conc = env.CONC ?? '3';
    const r = spawnSync('node_modules/.bin/tsx', ['--conditions=source', 'packages/oci/.prof/up.ts', '/tmp/prof-archive.tar', '/tmp/prof-cache', conc], { env: { ...process.env, ...env }, encoding: 'utf8' });
    (res[name] ??= []).push(r.stdout.trim());
  }
}
for (const [k, v] of Object.entries(res)) {
  const nums = v.map((l) => l.match(/push (\d+) ms, client cpu (\d+), registry cpu (\d+)/)!.slice(1).map(Number));
  const med = (i: number) => { const s = nums.map((n) => n[i]!).sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  console.log(`${k.padEnd(14)} wall ${med(0)}  client ${med(1)}  registry ${med(2)}   all walls ${nums.map((n) => n[0]).join(' ')}`);
}
