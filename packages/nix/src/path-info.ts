import { ReleaseError } from '@nixrel/core';
import { type NixOptions, parseNixJson, runNix } from './run.js';

export interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
  valid: true;
}

const STORE_DIR = '/nix/store';

// Newer Nix may print store paths without the store directory; put it back.
function absolute(path: string, storeDir: string): string {
  return path.startsWith('/') ? path : `${storeDir}/${path}`;
}

function hashString(h: unknown): string | undefined {
  if (typeof h === 'string') return h;
  // Structured hashes ({algorithm, format, hash}) of the newest path-info format.
  if (h && typeof h === 'object' && 'algorithm' in h && 'hash' in h) {
    const { algorithm, hash } = h as { algorithm: string; hash: string };
    return hash.includes('-') || hash.includes(':') ? hash : `${algorithm}-${hash}`;
  }
  return undefined;
}

type RawInfo = Record<string, unknown> | null;

function normaliseOne(path: string, raw: RawInfo, storeDir: string): PathInfo {
  if (raw === null || raw.valid === false) {
    throw new ReleaseError('NOT_FOUND', `store path ${path} is not valid (never built, or garbage-collected): build it first`);
  }
  const narHash = hashString(raw.narHash);
  if (!narHash || typeof raw.narSize !== 'number' || !Array.isArray(raw.references)) {
    throw new ReleaseError('NIX_ERROR', `nix path-info gave incomplete data for ${path}`, { details: [JSON.stringify(raw)] });
  }
  const info: PathInfo = {
    path,
    narHash,
    narSize: raw.narSize,
    references: (raw.references as string[]).map((r) => absolute(r, storeDir)).sort(),
    valid: true,
  };
  if (typeof raw.deriver === 'string') info.deriver = absolute(raw.deriver, storeDir);
  return info;
}

/**
 * Normalises `nix path-info --json` output. Nix 2.8 prints an array of objects
 * carrying `path` (an unbuilt path is `{path, valid: false}`); newer Nix prints
 * an object keyed by store path (an unbuilt path maps to null). Both become
 * PathInfo[], sorted by path; an invalid path is an error, never silent data.
 */
export function normalisePathInfo(json: unknown, storeDir = STORE_DIR): PathInfo[] {
  let entries: [string, RawInfo][];
  if (Array.isArray(json)) {
    entries = json.map((e: Record<string, unknown>) => [String(e.path), e]);
  } else if (json && typeof json === 'object') {
    // Some versions wrap the map: {"version": N, "info": {...}}.
    const obj = json as Record<string, unknown>;
    const map = obj.info && typeof obj.info === 'object' && typeof obj.version === 'number' ? (obj.info as Record<string, RawInfo>) : (obj as Record<string, RawInfo>);
    entries = Object.entries(map);
  } else {
    throw new ReleaseError('NIX_ERROR', 'nix path-info --json printed neither an array nor an object');
  }
  return entries.map(([p, raw]) => normaliseOne(absolute(p, storeDir), raw, storeDir)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Store path facts (hash, size, references) for paths or installables; `recursive` adds their closure. */
export async function pathInfo(paths: string[], opts: NixOptions & { recursive?: boolean } = {}): Promise<PathInfo[]> {
  if (paths.length === 0) return [];
  const what = `nix path-info ${paths.join(' ')}`;
  const { stdout } = await runNix(['path-info', '--json', ...(opts.recursive ? ['--recursive'] : []), ...paths], { ...opts, what });
  return normalisePathInfo(parseNixJson<unknown>(stdout, what));
}
