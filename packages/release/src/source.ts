import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ReleaseError } from '@nixrel/core';

const run = promisify(execFile);

/** The source a release is cut from: the commit and where it lives. */
export interface SourceInfo {
  /** `https://github.com/owner/repo` in CI or for a GitHub remote; else the remote URL or the local path. */
  repository: string;
  /** Web view of the repository, when there is one. */
  url?: string;
  commit: string;
  /** Committer time of the commit, seconds since the epoch: the SBOM and provenance clock. */
  commitTime: number;
  ref?: string;
  dirty: boolean;
}

async function git(repoRoot: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd: repoRoot });
    return stdout.trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new ReleaseError('TOOL_MISSING', 'git is not on PATH: install git (apt-get install git)');
    throw new ReleaseError('INVALID_INPUT', `git ${args.join(' ')} failed in ${repoRoot}: a release is cut from a git commit`, {
      details: (err.stderr ?? '').split('\n').filter(Boolean),
    });
  }
}

/** `git@github.com:o/r.git` and `https://github.com/o/r.git` -> `https://github.com/o/r`. */
export function webUrlOf(remote: string): string | undefined {
  const ssh = /^git@([^:]+):(.+?)(\.git)?$/.exec(remote);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  const http = /^https?:\/\/(?:[^@/]+@)?([^/]+)\/(.+?)(\.git)?\/?$/.exec(remote);
  if (http) return `https://${http[1]}/${http[2]}`;
  return undefined;
}

export async function readSourceInfo(repoRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<SourceInfo> {
  const commit = await git(repoRoot, ['rev-parse', 'HEAD']);
  const commitTime = Number(await git(repoRoot, ['show', '-s', '--format=%ct', 'HEAD']));
  const dirty = (await git(repoRoot, ['status', '--porcelain', '--untracked-files=no'])).length > 0;
  let url: string | undefined;
  let repository: string;
  if (env.GITHUB_REPOSITORY && env.GITHUB_SERVER_URL) {
    url = `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}`;
    repository = url;
  } else {
    const remote = await git(repoRoot, ['config', '--get', 'remote.origin.url']).catch(() => '');
    url = remote ? webUrlOf(remote) : undefined;
    repository = url ?? (remote || `file://${repoRoot}`);
  }
  const ref = env.GITHUB_REF ?? ((await git(repoRoot, ['symbolic-ref', '-q', 'HEAD']).catch(() => '')) || undefined);
  return { repository, commit, commitTime, dirty, ...(url ? { url } : {}), ...(ref ? { ref } : {}) };
}

/** Tags of the local repository matching a prefix. */
export async function gitTags(repoRoot: string, prefix: string): Promise<string[]> {
  const out = await git(repoRoot, ['tag', '--list', `${prefix}*`]);
  return out ? out.split('\n') : [];
}
