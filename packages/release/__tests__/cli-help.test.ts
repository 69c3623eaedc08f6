import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './image-test-helpers.js';

// Every command word the CLI takes, as the root scripts and `pnpm release <sub>` call it.
const COMMANDS: string[][] = [
  ['images'],
  ['new-image'],
  ['verify'],
  ['release'],
  ...['build', 'push', 'sbom', 'attest', 'plan', 'image', 'attest-all', 'collect', 'reproduce', 'diff'].map((sub) => ['release', sub]),
];

/** Runs at most `limit` at once: each is a process start on a shared machine. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

describe('--help and -h', () => {
  it('print the usage of every command and subcommand and exit 0', async () => {
    const runs = await inBatches(
      COMMANDS.map((words, i) => [...words, i % 2 === 0 ? '--help' : '-h']),
      4,
      async (args) => ({ args, r: await runCli(args, { cwd: repoRoot }) }),
    );
    for (const { args, r } of runs) {
      const name = args.slice(0, -1).join(' ');
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toBe('');
      expect(r.stdout.startsWith(`usage: pnpm ${name}`), `${name}: ${r.stdout}`).toBe(true);
    }
    const release = runs.find(({ args }) => args.length === 2 && args[0] === 'release')!.r;
    expect(release.stdout).toContain('subcommands: build, push, sbom, attest, plan, image, attest-all, collect, reproduce, diff');
  });

  it('an unknown command or subcommand lists the commands, exit 2', async () => {
    const [unknown, sub] = await Promise.all([runCli(['nope'], { cwd: repoRoot }), runCli(['release', 'nope'], { cwd: repoRoot })]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('error: unknown command "nope"; commands: images, new-image, build, push, sbom, attest, verify, release, plan, image, attest-all, collect, reproduce, diff\n');
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe('error: unknown subcommand "nope" of pnpm release; subcommands: build, push, sbom, attest, plan, image, attest-all, collect, reproduce, diff\n');
  });
});
