import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClosureExport, ReleaseError, silentLogger } from '@nixrel/core';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { describe, expect, it } from 'vitest';
import { loadCatalog, selectImages } from '../src/catalog.js';
import { buildImages, flakeRef } from '../src/stages/build.js';
import { repoRoot, scratchRepo } from './image-test-helpers.js';

const env = offlineNixEnv();

async function caught(p: Promise<unknown>): Promise<ReleaseError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ReleaseError) return e;
    throw e;
  }
  throw new Error('expected a ReleaseError');
}

function tarList(archive: string, member?: string): string[] {
  return execFileSync('tar', ['-tf', archive, ...(member ? [member] : [])], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('buildImages with real nix on the example collection', () => {
  it('builds every example image with its SBOM input', async () => {
    const specs = selectImages(await loadCatalog(repoRoot), { collection: 'example' });
    const artifacts = await buildImages(specs, { repoRoot, logger: silentLogger, env });
    expect(artifacts.map((a) => a.name)).toEqual(['greeter', 'hello', 'toolbox']);

    for (const a of artifacts) {
      expect(a.collection).toBe('example');
      expect(a.format).toBe('docker-archive');
      expect(a.installable).toBe(`${flakeRef(repoRoot, 'examples')}#packages.${a.system}.${a.name}`);
      expect(statSync(a.outPath).isFile()).toBe(true);
      expect(existsSync(a.drvPath)).toBe(true);

      // The dockerTools layout: manifest.json, a config named by its digest, one layer per store path.
      const entries = tarList(a.outPath);
      expect(entries).toContain('./manifest.json');
      const export_ = JSON.parse(readFileSync(a.closurePath, 'utf8')) as ClosureExport;
      const layers = entries.filter((e) => e.endsWith('/layer.tar'));
      expect(layers).toHaveLength(export_.paths.length + 1); // + the customisation layer

      // The SBOM input: the closure of the roots, roots included, with references inside it.
      expect(export_.version).toBe(1);
      expect(export_.image).toMatchObject({ name: a.name, version: a.version, metadata: a.metadata });
      const closure = new Set(export_.paths.map((p) => p.path));
      for (const root of export_.image.roots) expect(closure.has(root)).toBe(true);
      for (const p of export_.paths) {
        expect(p.narHash).toMatch(/^sha256[:-]/);
        expect(p.narSize).toBeGreaterThan(0);
        for (const r of p.references) expect(closure.has(r)).toBe(true);
      }
      expect(export_.paths.length).toBeGreaterThanOrEqual(2);
      expect(export_.paths.some((p) => p.references.length > 0)).toBe(true);
      // Every closure path is the output of a derivation the export describes.
      const outputs = new Set(export_.derivations.flatMap((d) => Object.values(d.outputs)));
      for (const p of closure) expect(outputs.has(p)).toBe(true);
    }

    const toolbox = artifacts.find((a) => a.name === 'toolbox')!;
    expect(toolbox.metadata.licenses).toBe('Example Tools Licence 1.0');
    const drvs = (JSON.parse(readFileSync(toolbox.closurePath, 'utf8')) as ClosureExport).derivations;
    expect(drvs.find((d) => d.pname === 'libgreet')?.meta.license).toHaveLength(2);
    expect(drvs.find((d) => d.pname === 'toolbox')?.meta.license).toBe('Example Tools Licence 1.0');
    const hello = drvs.find((d) => d.pname === 'hello')!;
    expect(hello).toMatchObject({ version: '2.12.1', meta: { homepage: 'https://www.gnu.org/software/hello/', license: { spdxId: 'GPL-3.0-or-later' } } });
    expect(hello.src?.urls[0]).toBe('mirror://gnu/hello/hello-2.12.1.sh');
    expect(hello.src?.hash).toMatch(/^sha256-/);
    expect(hello.patches?.[0]).toMatch(/hello-exclaim\.sed$/);
    expect(drvs.find((d) => d.pname === 'libgreet')?.src).toMatchObject({ owner: 'example', repo: 'libgreet', rev: 'v0.3.1' });
  });

  it('rebuilds the images bit for bit (--rebuild)', async () => {
    const specs = selectImages(await loadCatalog(repoRoot), { collection: 'example', images: ['hello'] });
    const [first] = await buildImages(specs, { repoRoot, logger: silentLogger, env });
    const [again] = await buildImages(specs, { repoRoot, logger: silentLogger, env, rebuild: true });
    expect(again!.outPath).toBe(first!.outPath);
  });

  it('reports a flake that fails to evaluate, naming it', async () => {
    const scratch = await scratchRepo();
    try {
      await writeFile(join(scratch.dir, 'examples/images/hello/image.nix'), '{ pkgs, ... }: { version = pkgs.no-such-package.version; contents = [ ]; }\n');
      const specs = selectImages(await loadCatalog(scratch.dir), { collection: 'example', images: ['hello'] });
      const err = await caught(buildImages(specs, { repoRoot: scratch.dir, logger: silentLogger, env }));
      expect(err.code).toBe('NIX_ERROR');
      expect(err.message).toContain(`path:${join(scratch.dir, 'examples')}#imageMetadata`);
      expect([err.message, ...err.details].join('\n')).toContain('no-such-package');
    } finally {
      await scratch.cleanup();
    }
  });

  it('says nix is missing when it is not on PATH', async () => {
    const specs = selectImages(await loadCatalog(repoRoot), { collection: 'example', images: ['hello'] });
    const err = await caught(buildImages(specs, { repoRoot, logger: silentLogger, env: { ...env, PATH: '/nonexistent' } }));
    expect(err.code).toBe('TOOL_MISSING');
    expect(err.message).toContain('"nix"');
  });
});
