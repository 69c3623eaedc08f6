import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const cli = join(repoRoot, 'packages', 'release', 'src', 'cli.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (as the root scripts do) with `cwd` as the repository. */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  const env = { ...(opts.env ?? process.env) };
  delete env.INIT_CWD; // set by pnpm; it would point the CLI at another repository
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, ['--conditions=source', cli, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A scratch copy of what the catalog and the example flake need (workspace
 * files, examples/, packages/images/), committed to a fresh git repository so
 * tests can check `git status` after scaffolding.
 */
export async function scratchRepo(opts: { git?: boolean } = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nixrel-repo-'));
  for (const p of ['package.json', 'pnpm-workspace.yaml', 'examples', 'packages/images']) {
    await cp(join(repoRoot, p), join(dir, p), { recursive: true, filter: (src) => !src.includes('node_modules') });
  }
  if (opts.git) {
    const git = (args: string[]) => promisify(execFile)('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: dir });
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'scratch']);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function gitStatus(dir: string): Promise<string> {
  const { stdout } = await promisify(execFile)('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir });
  return stdout;
}
