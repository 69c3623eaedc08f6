/**
 * flake.lock (version 7) -> SLSA resolvedDependencies. Every locked input
 * becomes one ResourceDescriptor with its revision and NAR hash; `follows`
 * aliases resolve to the node they point at, so each locked source appears once.
 */
import { ReleaseError } from '@nixrel/core';
import type { ResourceDescriptor } from './statement.js';

interface LockedRef {
  type: string;
  narHash?: string;
  rev?: string;
  owner?: string;
  repo?: string;
  url?: string;
  path?: string;
  ref?: string;
  host?: string;
  lastModified?: number;
  [field: string]: unknown;
}

interface LockNode {
  inputs?: Record<string, string | string[]>;
  locked?: LockedRef;
  original?: Record<string, unknown>;
  flake?: boolean;
}

export interface FlakeLock {
  version: number;
  root: string;
  nodes: Record<string, LockNode>;
}

/** One locked flake input. */
export interface LockedInput {
  /** Input path from the root flake, e.g. `nixpkgs` or `home-manager/nixpkgs`. */
  name: string;
  uri: string;
  rev?: string;
  /** SRI form as in flake.lock, e.g. `sha256-...`. */
  narHash?: string;
}

export function parseFlakeLock(text: string, source = 'flake.lock'): FlakeLock {
  let lock: FlakeLock;
  try {
    lock = JSON.parse(text) as FlakeLock;
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${source} is not JSON: ${(e as Error).message}`);
  }
  if (lock?.version !== 7) {
    throw new ReleaseError('INVALID_INPUT', `${source} has version ${JSON.stringify(lock?.version)}; only version 7 is supported`);
  }
  if (typeof lock.root !== 'string' || typeof lock.nodes !== 'object' || !lock.nodes?.[lock.root]) {
    throw new ReleaseError('INVALID_INPUT', `${source} has no root node`);
  }
  return lock;
}

/** `sha256-<base64>` -> 64 hex characters. */
export function sriToSha256Hex(sri: string): string {
  const m = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(sri);
  if (!m) throw new ReleaseError('INVALID_INPUT', `hash "${sri}" is not a sha256 SRI hash (sha256-<base64>)`);
  return Buffer.from(m[1] as string, 'base64').toString('hex');
}

/** A flake reference that pins the locked source, in Nix's own URL syntax. */
function lockedUri(locked: LockedRef, name: string): string {
  const rev = locked.rev ? `/${locked.rev}` : '';
  switch (locked.type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut': {
      const host = locked.host ? `?host=${locked.host}` : '';
      return `${locked.type}:${locked.owner}/${locked.repo}${rev}${host}`;
    }
    case 'git':
    case 'hg':
      return `${locked.type}+${locked.url}${locked.rev ? `?rev=${locked.rev}` : ''}`;
    case 'tarball':
    case 'file':
      return String(locked.url);
    case 'path':
      return `path:${locked.path}`;
    default:
      throw new ReleaseError('INVALID_INPUT', `flake.lock input "${name}" has unsupported type "${locked.type}"`);
  }
}

/** Walks the lock from its root; `follows` paths (arrays) are resolved from the root. */
export function lockedInputs(lock: FlakeLock): LockedInput[] {
  const resolveFollows = (path: string[], name: string): string => {
    let node = lock.root;
    for (const step of path) {
      const next = lock.nodes[node]?.inputs?.[step];
      if (next === undefined) throw new ReleaseError('INVALID_INPUT', `flake.lock input "${name}" follows a missing input "${path.join('/')}"`);
      node = Array.isArray(next) ? resolveFollows(next, name) : next;
    }
    return node;
  };
  const seen = new Set<string>([lock.root]);
  const out: LockedInput[] = [];
  const queue: { node: string; path: string }[] = [{ node: lock.root, path: '' }];
  while (queue.length > 0) {
    const { node, path } = queue.shift()!;
    for (const [input, target] of Object.entries(lock.nodes[node]?.inputs ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      const name = path ? `${path}/${input}` : input;
      const id = Array.isArray(target) ? resolveFollows(target, name) : target;
      if (seen.has(id)) continue;
      seen.add(id);
      const locked = lock.nodes[id]?.locked;
      if (!locked) throw new ReleaseError('INVALID_INPUT', `flake.lock input "${name}" (node "${id}") is not locked`);
      out.push({
        name,
        uri: lockedUri(locked, name),
        ...(locked.rev ? { rev: locked.rev } : {}),
        ...(locked.narHash ? { narHash: locked.narHash } : {}),
      });
      queue.push({ node: id, path: name });
    }
  }
  return out;
}

/**
 * ResourceDescriptors for resolvedDependencies. `digest.sha256` is the SHA-256
 * of the input's NAR serialisation (Nix's narHash); `gitCommit` its revision.
 */
export function flakeLockDependencies(lock: FlakeLock): ResourceDescriptor[] {
  return lockedInputs(lock).map((input) => {
    const digest: Record<string, string> = {};
    if (input.rev) digest.gitCommit = input.rev;
    if (input.narHash) digest.sha256 = sriToSha256Hex(input.narHash);
    return {
      name: `flake-input:${input.name}`,
      uri: input.uri,
      digest,
      ...(input.narHash ? { annotations: { narHash: input.narHash } } : {}),
    };
  });
}
