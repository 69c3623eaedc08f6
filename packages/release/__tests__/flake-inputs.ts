import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { repoRoot } from './image-test-helpers.js';

const exec = promisify(execFile);

/**
 * The sbomify flake's inputs as source tarballs at their locked revisions,
 * kept beside the repository (../shared/flake-inputs) on machines without
 * network (FLAKE_INPUTS_DIR names another place). A fresh clone has no such
 * folder: the tests that need it say so.
 */
export const flakeInputsDir = process.env.FLAKE_INPUTS_DIR ?? resolve(repoRoot, '..', 'shared', 'flake-inputs');
export const haveFlakeInputs = existsSync(join(flakeInputsDir, 'inputs.json'));
export const missingInputsReason = `needs the flake inputs' sources at ${flakeInputsDir} (absent: no network to fetch them)`;

export interface FlakeInput {
  file: string;
  owner: string;
  repo: string;
  rev: string;
  /** Unpacked tree (the tarball's top folder stripped). */
  dir: string;
}

export interface UnpackedInputs {
  inputs: FlakeInput[];
  /** The input of owner/repo, or undefined. */
  find: (owner: string, repo: string) => FlakeInput | undefined;
  cleanup: () => Promise<void>;
}

/** Unpacks every tarball listed in inputs.json into a fresh temporary folder. */
export async function unpackFlakeInputs(): Promise<UnpackedInputs> {
  const listed = JSON.parse(await readFile(join(flakeInputsDir, 'inputs.json'), 'utf8')) as Record<string, { owner: string; repo: string; rev: string }>;
  const root = await mkdtemp(join(tmpdir(), 'nixrel-inputs-'));
  const inputs: FlakeInput[] = [];
  for (const [file, { owner, repo, rev }] of Object.entries(listed)) {
    const dir = join(root, `${owner}-${repo}`);
    await mkdir(dir);
    await exec('tar', ['-xzf', join(flakeInputsDir, file), '-C', dir]);
    inputs.push({ file, owner, repo, rev, dir });
  }
  return {
    inputs,
    find: (owner, repo) => inputs.find((i) => i.owner.toLowerCase() === owner.toLowerCase() && i.repo === repo),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** `nix hash path`: the NAR hash (SRI) a locked input of this tree has. */
export async function narHash(dir: string): Promise<string> {
  return (await exec('nix', ['hash', 'path', dir], { env: offlineNixEnv() })).stdout.trim();
}

/** Adds a tree to the store as a fetched flake input is stored (`source`). */
export async function addToStore(dir: string): Promise<string> {
  return (await exec('nix', ['store', 'add-path', '--name', 'source', dir], { env: offlineNixEnv() })).stdout.trim();
}
