import { spawn } from 'node:child_process';
import { type Logger, ReleaseError } from '@nixrel/core';

/** Options every nix call accepts. */
export interface NixOptions {
  cwd?: string;
  /** Environment of the nix process; defaults to process.env (a user's NIX_CONFIG is honoured). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** The nix executable; defaults to `nix` looked up on PATH. */
  nixBin?: string;
}

export interface NixResult {
  stdout: string;
  stderr: string;
}

// Flakes and the new CLI are still experimental in every Nix we support; enabling
// them per call keeps a user's nix.conf untouched. The flake evaluation cache is
// one SQLite file per user shared by every nix process: concurrent evaluations
// (images built in parallel, two releases at once) then fail with "database is
// busy" or a cached "attribute ... unexpectedly missing". The pipeline evaluates
// each flake once per run, so the cache saves nothing and is turned off.
const COMMON_ARGS = ['--extra-experimental-features', 'nix-command flakes', '--option', 'eval-cache', 'false'];

/** Lines of nix stderr kept in an error's details: the end is where the cause is. */
const DETAIL_LINES = 40;

export const NIX_INSTALL_HINT =
  'install Nix (https://nixos.org/download; on Debian/Ubuntu: apt-get install nix-bin) and make sure `nix` is on PATH';

/**
 * Runs `nix <args>` with an argument array (never a shell string). A missing
 * executable becomes TOOL_MISSING; a non-zero exit becomes NIX_ERROR whose
 * message names what was asked (`what`) and whose details carry nix's stderr.
 */
export function runNix(args: string[], opts: NixOptions & { what?: string } = {}): Promise<NixResult> {
  const bin = opts.nixBin ?? 'nix';
  const what = opts.what ?? `nix ${args.join(' ')}`;
  opts.logger?.debug(`$ ${bin} ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, [...COMMON_ARGS, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let pending = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      if (!opts.logger) return;
      pending += c.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.logger.debug(`nix: ${line}`);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new ReleaseError('TOOL_MISSING', `nix not found (looked for "${bin}" on PATH): ${NIX_INSTALL_HINT}`, { cause: e }));
      } else {
        reject(new ReleaseError('NIX_ERROR', `${what}: could not start ${bin}: ${e.message}`, { cause: e }));
      }
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) {
        resolvePromise({ stdout, stderr });
        return;
      }
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      const firstError = lines.find((l) => l.startsWith('error:'))?.replace(/^error:\s*/, '');
      const status = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(
        new ReleaseError('NIX_ERROR', `${what} failed (${status})${firstError ? `: ${firstError}` : ''}`, {
          details: lines.slice(-DETAIL_LINES),
        }),
      );
    });
  });
}

/** Parses nix's JSON output, naming the command when it is not JSON. */
export function parseNixJson<T>(stdout: string, what: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (e) {
    throw new ReleaseError('NIX_ERROR', `${what} printed output that is not JSON: ${(e as Error).message}`, {
      cause: e,
      details: [stdout.slice(0, 500)],
    });
  }
}
