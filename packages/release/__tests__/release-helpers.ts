import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReleaseManifest } from '@nixrel/core';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { repoRoot } from './image-test-helpers.js';

const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const cli = join(repoRoot, 'packages', 'release', 'src', 'cli.ts');

/** The environment a test release runs in: offline Nix, no CI, no ambient OIDC token. */
export function releaseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...offlineNixEnv(process.env), ...extra };
  for (const k of ['INIT_CWD', 'CI', 'GITHUB_ACTIONS', 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'RELEASE_LOG_LEVEL']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in `cwd`. With `killOn`, sends SIGKILL to the whole process
 * group as soon as stderr matches it (the release's progress lines).
 */
export function runCliProcess(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; killOn?: RegExp; killDelayMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, ['--conditions=source', cli, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (opts.killOn && !killed && opts.killOn.test(stderr)) {
        killed = true;
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, opts.killDelayMs ?? 0);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export async function readManifest(path: string): Promise<ReleaseManifest> {
  return JSON.parse(await readFile(path, 'utf8')) as ReleaseManifest;
}

/** The manifest with what legitimately differs between two runs removed: times and signature bytes. */
export function comparable(m: ReleaseManifest): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) {
        if (['date', 'finishedAt', 'checkedAt', 'startedOn', 'finishedOn', 'signedAt', 'bundleDigest', 'referrerDigest', 'rekorLogIndex'].includes(k)) continue;
        out[k] = strip(val);
      }
      return out;
    }
    return v;
  };
  return strip(m);
}

export function pageExists(dir: string, version: string): boolean {
  return existsSync(join(dir, 'site', version));
}
