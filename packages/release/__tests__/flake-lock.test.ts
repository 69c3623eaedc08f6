import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveFlakeInputs, missingInputsReason, narHash, type UnpackedInputs, unpackFlakeInputs } from './flake-inputs.js';
import { repoRoot } from './image-test-helpers.js';

const exec = promisify(execFile);

interface LockedRef {
  type: string;
  owner?: string;
  repo?: string;
  ref?: string;
  rev?: string;
  narHash?: string;
  lastModified?: number;
  id?: string;
}
interface LockNode {
  inputs?: Record<string, string | string[]>;
  locked?: LockedRef;
  original?: LockedRef;
  flake?: boolean;
}
interface LockFile {
  version: number;
  root: string;
  nodes: Record<string, LockNode>;
}
interface InputSpec {
  url?: string;
  follows?: string;
  flake?: boolean;
  inputs?: Record<string, InputSpec>;
}
interface Declared {
  inputs: Record<string, InputSpec>;
  /** The outputs function's formal arguments: an argument that is no declared input is an input too. */
  args: string[];
}

/** What a flake.nix declares, read by Nix itself. */
async function declared(dir: string): Promise<Declared> {
  const expr = `let f = import ${join(dir, 'flake.nix')}; in { inputs = f.inputs or { }; args = builtins.attrNames (builtins.functionArgs f.outputs); }`;
  const { stdout } = await exec('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { env: offlineNixEnv() });
  return JSON.parse(stdout) as Declared;
}

/** The `original` Nix writes for an input URL (only the forms these flakes use). */
function original(spec: InputSpec, id: string): LockedRef {
  if (spec.url === undefined) return { type: 'indirect', id };
  const gh = /^github:([^/]+)\/([^/]+)(?:\/(.+))?$/.exec(spec.url);
  if (!gh) throw new Error(`unhandled input url ${spec.url}`);
  return { type: 'github', owner: gh[1]!, repo: gh[2]!, ...(gh[3] ? { ref: gh[3] } : {}) };
}

const readLock = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as LockFile;

/** The node an input path leads to in a lock file (following `follows`). */
function nodeAt(lock: LockFile, path: string[]): LockNode | undefined {
  let key = lock.root;
  for (const id of path) {
    const next = lock.nodes[key]?.inputs?.[id];
    if (next === undefined) return undefined;
    if (Array.isArray(next)) return nodeAt(lock, next);
    key = next;
  }
  return lock.nodes[key];
}

const canonical = (r?: LockedRef) => (r ? JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b))) : 'none');
const sameLocked = (a?: LockedRef, b?: LockedRef) => canonical(a) === canonical(b);

/**
 * Where a lock differs from what the flakes declare: every node must have
 * exactly the inputs its flake declares (`inputs` and the arguments of
 * `outputs`), follows as the outermost declaring flake says, originals as
 * declared. Nodes whose source is at hand are checked recursively. Returns
 * the problems and the transitive (non-root) inputs met.
 */
async function lockProblems(lock: LockFile, sourceOf: (node: LockNode) => { dir: string } | undefined) {
  const problems: string[] = [];
  const transitive: { path: string[]; node: LockNode }[] = [];
  // Overrides (inputs.X.inputs.Y...) by input path; the outermost flake's win, as in Nix.
  const overrides = new Map<string, { follows?: string[]; spec?: InputSpec }>();

  const walk = async (dir: string, key: string, path: string[]) => {
    const decl = await declared(dir);
    const ids = [...new Set([...Object.keys(decl.inputs), ...decl.args.filter((a) => a !== 'self')])].sort();
    const node = lock.nodes[key]!;
    const where = path.length ? path.join('/') : 'root';
    if (JSON.stringify(Object.keys(node.inputs ?? {}).sort()) !== JSON.stringify(ids)) {
      problems.push(`${where}: lock has inputs [${Object.keys(node.inputs ?? {}).sort()}], its flake declares [${ids}]`);
    }
    for (const id of ids) {
      for (const [sub, spec] of Object.entries(decl.inputs[id]?.inputs ?? {})) {
        const p = [...path, id, sub].join('/');
        if (!overrides.has(p)) overrides.set(p, spec.follows !== undefined ? { follows: [...path, ...spec.follows.split('/')] } : { spec });
      }
    }
    for (const id of ids) {
      const p = [...path, id];
      const own = decl.inputs[id];
      const effective = overrides.get(p.join('/')) ?? (own?.follows !== undefined ? { follows: [...path, ...own.follows.split('/')] } : { spec: own ?? {} });
      const actual = node.inputs?.[id];
      if (actual === undefined) continue; // reported above
      if (effective.follows) {
        if (JSON.stringify(actual) !== JSON.stringify(effective.follows)) problems.push(`${p.join('/')}: should follow ${JSON.stringify(effective.follows)}, lock has ${JSON.stringify(actual)}`);
        continue;
      }
      if (typeof actual !== 'string') {
        problems.push(`${p.join('/')}: declared as its own input, lock has ${JSON.stringify(actual)}`);
        continue;
      }
      const child = lock.nodes[actual]!;
      const want = original(effective.spec!, id);
      if (!sameLocked(child.original, want)) problems.push(`${p.join('/')}: original ${JSON.stringify(child.original)}, declared ${JSON.stringify(want)}`);
      if ((effective.spec!.flake === false) !== (child.flake === false)) problems.push(`${p.join('/')}: flake = ${effective.spec!.flake}, lock ${child.flake}`);
      if (path.length > 0) transitive.push({ path: p, node: child });
      const src = sourceOf(child);
      if (child.flake !== false && src) await walk(src.dir, actual, p);
      else if (child.flake !== false && child.inputs) problems.push(`${p.join('/')}: inputs locked for a flake whose source is not here to check`);
    }
  };
  await walk(repoRoot, lock.root, []);
  return { problems, transitive };
}

describe.skipIf(!haveFlakeInputs)(`flake.lock against the inputs' own flakes${haveFlakeInputs ? '' : ` (skipped: ${missingInputsReason})`}`, () => {
  let sources: UnpackedInputs;
  let lock: LockFile;
  beforeAll(async () => {
    sources = await unpackFlakeInputs();
    lock = await readLock(join(repoRoot, 'flake.lock'));
  }, 60_000);
  afterAll(() => sources?.cleanup());

  const sourceOf = (node: LockNode) => {
    const l = node.locked;
    const found = l?.owner && l.repo ? sources.find(l.owner, l.repo) : undefined;
    return found && found.rev === l?.rev ? found : undefined;
  };

  it('is written as Nix writes it: sorted keys, two-space indent, one node per input path', async () => {
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortDeep) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])])) : v;
    const text = await readFile(join(repoRoot, 'flake.lock'), 'utf8');
    expect(text).toBe(`${JSON.stringify(sortDeep(lock), null, 2)}\n`);
    expect(lock.version).toBe(7);
  });

  it('gives every node exactly the inputs its flake declares, follows resolved as declared', async () => {
    const { problems, transitive } = await lockProblems(lock, sourceOf);
    expect(problems).toEqual([]);

    // A transitive input is locked as its parent's own flake.lock locks it (what
    // `nix flake lock` writes for a new input), or kept at another revision of
    // the same original whose NAR hash is recomputed below.
    const keptElsewhere: string[] = [];
    for (const { path, node } of transitive) {
      const top = sourceOf(nodeAt(lock, path.slice(0, 1))!)!;
      const parentLock = await readLock(join(top.dir, 'flake.lock'));
      const theirs = nodeAt(parentLock, path.slice(1));
      if (sameLocked(node.locked, theirs?.locked)) continue;
      expect(sourceOf(node), `${path.join('/')} differs from its parent's lock and has no source to check`).toBeDefined();
      keptElsewhere.push(`${path.join('/')}@${node.locked?.rev}`);
    }
    // treefmt-nix: bun2nix's lock has 337a4fe; the newer 3710e0e is kept (a re-lock keeps it, its tree is checked).
    expect(keptElsewhere).toEqual(['bun2nix/treefmt-nix@3710e0e1218041bbad640352a0440114b1e10428']);
  }, 120_000);

  it('names the node of a lock that differs from the flakes', async () => {
    // The shapes a hand-written lock had: flake-parts' nixpkgs-lib made to
    // follow nixpkgs, and an input its flake declares left out.
    const broken = structuredClone(lock);
    broken.nodes['flake-parts']!.inputs = { 'nixpkgs-lib': ['bun2nix', 'nixpkgs'] };
    delete broken.nodes.bun2nix!.inputs!['treefmt-nix'];
    const { problems } = await lockProblems(broken, sourceOf);
    expect(problems).toEqual([
      'bun2nix: lock has inputs [flake-parts,import-tree,nixpkgs,systems], its flake declares [flake-parts,import-tree,nixpkgs,systems,treefmt-nix]',
      'bun2nix/flake-parts/nixpkgs-lib: declared as its own input, lock has ["bun2nix","nixpkgs"]',
    ]);
  }, 120_000);

  it('records the NAR hash of every input whose source is here, recomputed', async () => {
    const checked: string[] = [];
    const unchecked: string[] = [];
    for (const [key, node] of Object.entries(lock.nodes)) {
      if (key === lock.root) continue;
      const src = sourceOf(node);
      if (!src) {
        unchecked.push(key);
        continue;
      }
      expect(await narHash(src.dir), key).toBe(node.locked?.narHash);
      checked.push(key);
    }
    expect(checked.sort()).toEqual(['bun2nix', 'flake-parts', 'import-tree', 'pyproject-build-systems', 'pyproject-nix', 'sbomify-src', 'systems', 'treefmt-nix', 'uv2nix']);
    // nixpkgs (4.4 GB) and flake-parts' nixpkgs-lib at bun2nix's locked rev are not here.
    expect(unchecked.sort()).toEqual(['nixpkgs', 'nixpkgs-lib']);
  }, 120_000);
});
