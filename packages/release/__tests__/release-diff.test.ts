import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ReleaseDiff, ReleaseManifest } from '@nixrel/core';
import { sha256Digest } from '@nixrel/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flakeInputs } from '../src/diff/release-contents.js';
import { diffComponents, purlWithoutVersion } from '../src/diff/release-diff.js';
import { scratchRepo } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);

/**
 * Two real releases of the example collection: between them toolbox's version
 * is bumped, hello gains a component (libgreet), greeter is removed and x added.
 */
describe('pnpm release diff on two real example releases', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  let one: ReleaseManifest;
  let two: ReleaseManifest;
  const cli = (args: string[]) => runCliProcess(args, { cwd: repo.dir, env: releaseEnv() });
  const git = (args: string[]) => run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: repo.dir });

  beforeAll(async () => {
    repo = await scratchRepo({ git: true });
    const r1 = await cli(['release', '--collection', 'example', '--version', 'example-v1']);
    expect(r1.code, r1.stderr).toBe(0);
    const packages = join(repo.dir, 'examples/nix/packages.nix');
    await writeFile(packages, (await readFile(packages, 'utf8')).replace('version = "0.9";', 'version = "1.0";'));
    const hello = join(repo.dir, 'examples/images/hello/image.nix');
    await writeFile(hello, (await readFile(hello, 'utf8')).replace('contents = [ pkgs.hello ];', 'contents = [ pkgs.hello pkgs.libgreet ];'));
    await rm(join(repo.dir, 'examples/images/greeter'), { recursive: true });
    expect((await cli(['new-image', 'x', '--collection', 'example'])).code).toBe(0);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'bump toolbox, libgreet in hello, greeter out, x in']);
    const r2 = await cli(['release', '--collection', 'example', '--version', 'example-v2']);
    expect(r2.code, r2.stderr).toBe(0);
    one = await readManifest(join(repo.dir, '.release/example-v1/release.json'));
    two = await readManifest(join(repo.dir, '.release/example-v2/release.json'));
  }, 120_000);
  afterAll(async () => repo?.cleanup());

  const image = (m: ReleaseManifest, name: string) => m.images.find((i) => i.name === name)!;
  const short = (d: string | undefined) => d!.slice(0, 'sha256:'.length + 12);
  const tagOf = (m: ReleaseManifest, name: string) => image(m, name).tags.find((t) => t.startsWith(`${name}-`))!;

  it('prints the per-image table and each change, by default the newest release against its predecessor', async () => {
    const r = await cli(['release', 'diff']);
    expect(r.code, r.stderr).toBe(0);
    const [h1, h2, t1, t2] = [image(one, 'hello'), image(two, 'hello'), image(one, 'toolbox'), image(two, 'toolbox')];
    const diff = JSON.parse((await cli(['release', 'diff', 'example-v1', 'example-v2', '--json'])).stdout) as ReleaseDiff;
    const closure = diff.images.find((i) => i.name === 'hello')!.closureSize!;
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const grow = closure.to - closure.from;
    const rows = [
      ['IMAGE', 'CHANGE', 'VERSION', 'DIGEST', 'COMPONENTS', 'CLOSURE', 'LAYERS'],
      ['greeter', 'removed', '1.0.0', short(image(one, 'greeter').digest), '-', '-', '-'],
      ['hello', 'changed', '2.12.1', `${short(h1.digest)} -> ${short(h2.digest)}`, '+1', `+${grow < 1024 ? `${grow} B` : kib(grow)}`, '+1'],
      ['toolbox', 'changed', '0.9 -> 1.0', `${short(t1.digest)} -> ${short(t2.digest)}`, '~1', '=', '='],
      ['x', 'added', '2.12.1', short(image(two, 'x').digest), '3 new', '-', '-'],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    const table = rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
    expect(r.stdout).toBe(
      [
        'example-v1 -> example-v2',
        'images: 1 added, 1 removed, 2 changed, 0 unchanged; components: 1 added, 0 removed, 1 changed version',
        '',
        ...table,
        '',
        'hello:',
        `  digest      ${h1.digest} -> ${h2.digest}`,
        '  component   + libgreet 0.3.1',
        '  licence     + MIT AND Apache-2.0',
        `  closure     ${mib(closure.from)} -> ${mib(closure.to)} (+${grow} bytes)`,
        '  layers      4 -> 5',
        '  tag         + example-v2',
        `  tag         + ${tagOf(two, 'hello')}`,
        '  tag         - example-v1',
        `  tag         - ${tagOf(one, 'hello')}`,
        '',
        'toolbox:',
        `  digest      ${t1.digest} -> ${t2.digest}`,
        '  version     0.9 -> 1.0',
        '  component   ~ toolbox 0.9 -> 1.0',
        '  tag         + example-v2',
        `  tag         + ${tagOf(two, 'toolbox')}`,
        '  tag         - example-v1',
        `  tag         - ${tagOf(one, 'toolbox')}`,
        '',
      ].join('\n'),
    );
  });

  it('gives the same diff as JSON, from files, versions and an audit pack', async () => {
    const byVersion = JSON.parse((await cli(['release', 'diff', 'example-v1', 'example-v2', '--json'])).stdout) as ReleaseDiff;
    expect(byVersion.summary).toEqual({ added: 1, removed: 1, changed: 2, unchanged: 0, componentsAdded: 1, componentsRemoved: 0, componentsChanged: 1 });
    expect(byVersion.images.map((i) => [i.name, i.status])).toEqual([
      ['greeter', 'removed'],
      ['hello', 'changed'],
      ['toolbox', 'changed'],
      ['x', 'added'],
    ]);
    const hello = byVersion.images[1]!;
    expect(hello.components).toEqual({ added: [expect.objectContaining({ name: 'libgreet', version: '0.3.1' })], removed: [], changed: [] });
    expect(hello.licences).toEqual({ added: ['MIT AND Apache-2.0'], removed: [] });
    expect(hello.layers).toEqual({ from: 4, to: 5 });
    expect(byVersion.images[2]!.components.changed).toEqual([expect.objectContaining({ name: 'toolbox', from: '0.9', to: '1.0' })]);

    // The release's own audit pack; the diff reads release.json, SBOMs and provenance from it.
    const packed = await cli(['release', 'pack', '--manifest', '.release/example-v1/release.json', '--out', 'packs']);
    expect(packed.code, packed.stderr).toBe(0);
    const pack = join(repo.dir, 'packs', 'example-v1.audit.tar.gz');
    const fromPack = await cli(['release', 'diff', pack, '.release/example-v2/release.json', '--json']);
    expect(fromPack.code, fromPack.stderr).toBe(0);
    expect(JSON.parse(fromPack.stdout)).toEqual(byVersion);
  });

  it('is recorded at release time: release.json names its predecessor and the page shows the stored diff', async () => {
    expect(one.previous).toBeUndefined();
    const diffText = await readFile(join(repo.dir, '.release/example-v2/diff.json'), 'utf8');
    expect(two.previous).toEqual({ version: 'example-v1', diff: { path: 'diff.json', digest: sha256Digest(diffText) } });
    const stored = JSON.parse(diffText) as ReleaseDiff;
    const computed = JSON.parse((await cli(['release', 'diff', 'example-v1', 'example-v2', '--json'])).stdout) as ReleaseDiff;
    expect(stored).toEqual(computed);
    const page = await readFile(join(repo.dir, 'site/example-v2/index.html'), 'utf8');
    expect(page).toContain('What changed since example-v1');
    expect(page).toContain('<a href="diff.json">the full diff against example-v1 (JSON)</a>');
    expect(page).toMatch(/<span class="name"><a href="#image-toolbox">toolbox<\/a><\/span> <span class="tag">changed<\/span> <ul><li>version 0\.9 → 1\.0<\/li><li>toolbox 0\.9 → 1\.0<\/li><\/ul>/);
    // Running the same release again changes nothing: same diff file, same manifest.
    const manifestBefore = await readFile(join(repo.dir, '.release/example-v2/release.json'), 'utf8');
    const again = await cli(['release', '--collection', 'example', '--version', 'example-v2']);
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(join(repo.dir, '.release/example-v2/diff.json'), 'utf8')).toBe(diffText);
    expect(await readFile(join(repo.dir, '.release/example-v2/release.json'), 'utf8')).toBe(manifestBefore);
  });

  it('refuses what is not a release, an SBOM that does not match its digest, and a broken pack, naming each', async () => {
    const missing = await cli(['release', 'diff', 'no-such-release']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no release "no-such-release"/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const bad = join(repo.dir, 'bad.audit.tar.gz');
    await writeFile(bad, 'not gzip');
    const broken = await cli(['release', 'diff', bad, 'example-v2']);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/audit pack .*bad\.audit\.tar\.gz is not gzip/);

    const sbom = join(repo.dir, '.release/example-v1/sbom/hello.cdx.json');
    const original = await readFile(sbom, 'utf8');
    await writeFile(sbom, original.replace('"greeting-data"', '"greeting-date"'));
    const edited = await cli(['release', 'diff', 'example-v1', 'example-v2']);
    await writeFile(sbom, original);
    expect(edited.code).not.toBe(0);
    expect(edited.stderr).toMatch(/SBOM sbom\/hello\.cdx\.json in .* has digest sha256:[0-9a-f]{64}, release\.json records/);
  });
});

describe('component matching', () => {
  it('matches by purl without version, then by name', () => {
    expect(purlWithoutVersion('pkg:generic/zlib@1.3?checksum=x')).toBe('pkg:generic/zlib');
    const diff = diffComponents(
      [
        { name: 'zlib', version: '1.3', purl: 'pkg:generic/zlib@1.3?checksum=a' },
        { name: 'openssl', version: '3.0', purl: 'pkg:nix/openssl@3.0' },
        { name: 'tzdata', version: '2024a' },
        { name: 'gone', version: '1' },
      ],
      [
        { name: 'zlib-ng', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1?checksum=b' },
        { name: 'openssl', version: '3.0', purl: 'pkg:nix/openssl@3.0' },
        { name: 'tzdata', version: '2025b', purl: 'pkg:nix/tzdata@2025b' },
        { name: 'new', version: '2' },
      ],
    );
    expect(diff).toEqual({
      added: [{ name: 'new', version: '2' }],
      removed: [{ name: 'gone', version: '1' }],
      changed: [
        { name: 'tzdata', from: '2024a', to: '2025b', purl: 'pkg:nix/tzdata@2025b' },
        { name: 'zlib-ng', from: '1.3', to: '1.3.1', purl: 'pkg:generic/zlib@1.3.1?checksum=b' },
      ],
    });
  });

  it('reads flake.lock inputs from the provenance', () => {
    const statement = (rev: string) => ({
      predicate: {
        buildDefinition: {
          resolvedDependencies: [
            { name: 'source', uri: 'git+https://x', digest: { gitCommit: 'a'.repeat(40) } },
            { name: 'flake-input:nixpkgs', uri: 'github:NixOS/nixpkgs', digest: { gitCommit: rev, sha256: 'f'.repeat(64) } },
          ],
        },
      },
    });
    expect([...flakeInputs(statement('b'.repeat(40)), 'p').entries()]).toEqual([['nixpkgs', 'b'.repeat(40)]]);
    expect(() => flakeInputs({ predicate: {} }, 'provenance p.json')).toThrow(/provenance p\.json: \/predicate\/buildDefinition\/resolvedDependencies/);
  });
});
