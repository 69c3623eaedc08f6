import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import { isReleaseError, ReleaseError } from '@nixrel/core';
import { makeTempTree, makeTinyFlake, OFFLINE_NIX_CONFIG_LINES, offlineNixEnv, type TempDir } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, evalJson, HOST_SANDBOX_PATHS, nixEnvFor, nixVersion, OFFLINE_NIX_SETTINGS, pathInfo, rebuildCheck, showDerivation, withOfflineNixConfig } from '../src/index.js';

const env = offlineNixEnv();
let flake: TempDir;
let ref: (attr: string) => string;

async function caught(p: Promise<unknown>): Promise<ReleaseError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ReleaseError) return e;
    throw e;
  }
  throw new Error('expected a ReleaseError');
}

beforeAll(async () => {
  flake = await makeTinyFlake({
    a: 'echo a > $out',
    b: 'mkdir $out; echo @a@ > $out/ref',
    // Different bytes on every build: what --rebuild must catch.
    nondet: 'date +%s%N > $out',
    broken: 'echo failing on purpose >&2; exit 3',
  });
  ref = (attr) => `path:${flake.dir}#packages.x86_64-linux.${attr}`;
});
afterAll(() => flake.cleanup());

describe('nix driver against real nix', () => {
  it('reports the nix version', async () => {
    const v = await nixVersion({ env });
    expect(v.major).toBe(2);
    expect(v.version).toMatch(/^2\.\d+/);
  });

  it('builds installables and leaves no result link', async () => {
    const results = await build([ref('a'), ref('b')], { env, cwd: flake.dir });
    expect(results).toHaveLength(2);
    expect(results[1]!.drvPath).toMatch(/^\/nix\/store\/[a-z0-9]{32}-b\.drv$/);
    expect(results[1]!.outputs.out).toMatch(/^\/nix\/store\/[a-z0-9]{32}-b$/);
    expect(existsSync(results[1]!.outputs.out!)).toBe(true);
    expect(readdirSync(flake.dir).some((f) => f.startsWith('result'))).toBe(false);
  });

  it('evaluates without the shared evaluation cache, so concurrent evaluations cannot trip over it', async () => {
    const home = await makeTempTree({}, 'nixrel-home-');
    try {
      const isolated = { ...env, HOME: home.dir, XDG_CACHE_HOME: `${home.dir}/.cache` };
      const runs = Array.from({ length: 6 }, () => evalJson<string[]>(`path:${flake.dir}#packages.x86_64-linux`, { env: isolated, apply: 'builtins.attrNames' }));
      for (const names of await Promise.all(runs)) expect(names).toContain('a');
      await build([ref('a')], { env: isolated, cwd: flake.dir });
      // Nix writes its flake evaluation cache under $XDG_CACHE_HOME/nix/eval-cache-v*: never created.
      const cache = `${home.dir}/.cache/nix`;
      expect(existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith('eval-cache')) : []).toEqual([]);
    } finally {
      await home.cleanup();
    }
  });

  it('evaluates to JSON, with --apply', async () => {
    const names = await evalJson<string[]>(`path:${flake.dir}#packages.x86_64-linux`, { env, apply: 'builtins.attrNames' });
    expect(names).toEqual(['a', 'b', 'broken', 'nondet']);
    const name = await evalJson<string>(`${ref('b')}.name`, { env });
    expect(name).toBe('b');
  });

  it('gives path info for a closure', async () => {
    const [b] = await build([ref('b')], { env });
    const [a] = await build([ref('a')], { env });
    const infos = await pathInfo([b!.outputs.out!], { env, recursive: true });
    expect(infos.map((i) => i.path).sort()).toEqual([a!.outputs.out, b!.outputs.out].sort());
    const bInfo = infos.find((i) => i.path === b!.outputs.out)!;
    expect(bInfo.references).toEqual([a!.outputs.out]);
    expect(bInfo.narHash).toMatch(/^sha256[-:]/);
    expect(bInfo.narSize).toBeGreaterThan(0);
    expect(bInfo.deriver).toBe(b!.drvPath);
  });

  it('refuses a path that was never built, naming it', async () => {
    const missing = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-not-built';
    const err = await caught(pathInfo([missing], { env }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(missing);
  });

  it('shows a derivation', async () => {
    const [b] = await build([ref('b')], { env });
    const drvs = await showDerivation(b!.drvPath, { env });
    const drv = drvs[b!.drvPath]!;
    expect(drv.outputs.out?.path).toBe(b!.outputs.out);
    expect(Object.keys(drv.inputDrvs)).toHaveLength(1);
    expect(drv.builder).toBe('/bin/sh');
  });

  it('finds a deterministic build deterministic', async () => {
    const r = await rebuildCheck(ref('b'), { env });
    expect(r.deterministic).toBe(true);
  });

  it('finds a non-deterministic build non-deterministic', async () => {
    const r = await rebuildCheck(ref('nondet'), { env });
    expect(r.deterministic).toBe(false);
    expect(r.message).toMatch(/may not be deterministic/);
  });

  it('surfaces a failing build with its stderr', async () => {
    const err = await caught(build([ref('broken')], { env }));
    expect(err.code).toBe('NIX_ERROR');
    expect(err.message).toContain(ref('broken'));
    expect(err.details.join('\n')).toContain('failing on purpose');
  });

  it('surfaces an evaluation error naming the installable', async () => {
    const bad = await makeTempTree({ 'flake.nix': '{ outputs = { self }: { x = builtins.throw "no such thing here"; }; }' });
    try {
      const err = await caught(evalJson(`path:${bad.dir}#x`, { env }));
      expect(err.code).toBe('NIX_ERROR');
      expect(err.message).toContain(`path:${bad.dir}#x`);
      expect([err.message, ...err.details].join('\n')).toContain('no such thing here');
    } finally {
      await bad.cleanup();
    }
  });

  it('says how to install nix when it is missing from PATH', async () => {
    const err = await caught(build([ref('a')], { env: { ...env, PATH: '/nonexistent' } }));
    expect(err.code).toBe('TOOL_MISSING');
    expect(err.message).toContain('"nix"');
    expect(err.message).toMatch(/install Nix/);
    expect(isReleaseError(err, 'TOOL_MISSING')).toBe(true);
  });
});

describe('offline settings', () => {
  it('bind /bin/sh to the real shell and list /bin only where it is a real directory', () => {
    const entries = HOST_SANDBOX_PATHS;
    const shell = entries.find((e) => e.startsWith('/bin/sh='))!.slice('/bin/sh='.length);
    expect(lstatSync(shell).isFile()).toBe(true);
    expect(shell).toBe(realpathSync('/bin/sh'));
    // On this merged-/usr machine /bin is a symlink: a /bin entry is what makes newer Nix fail to mount /bin/sh.
    expect(entries.includes('/bin')).toBe(!lstatSync('/bin').isSymbolicLink());
    expect(entries).toEqual(expect.arrayContaining(['/usr', '/lib', '/lib64', '/etc/alternatives']));
    expect(OFFLINE_NIX_SETTINGS).toContain(`extra-sandbox-paths = ${entries.join(' ')}`);
  });

  it('are the same in the product and in the test kit', () => {
    expect([...OFFLINE_NIX_SETTINGS]).toEqual([...OFFLINE_NIX_CONFIG_LINES]);
  });

  it('are appended to a user NIX_CONFIG only when RELEASE_NIX_OFFLINE is set', () => {
    const user = { NIX_CONFIG: 'cores = 3' };
    expect(nixEnvFor(user)).toBe(user);
    const offline = nixEnvFor({ ...user, RELEASE_NIX_OFFLINE: '1' });
    expect(offline.NIX_CONFIG?.split('\n')).toEqual(['cores = 3', ...OFFLINE_NIX_SETTINGS]);
    expect(withOfflineNixConfig({}).NIX_CONFIG).toBe(OFFLINE_NIX_SETTINGS.join('\n'));
  });
});
