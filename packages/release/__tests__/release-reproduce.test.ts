import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRepo } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);

/** An image whose package writes random bytes: no two builds are the same. */
const NOISY_PACKAGE_JSON = {
  name: '@images/noisy',
  private: true,
  version: '0.0.0',
  image: { name: 'noisy', collection: 'example', title: 'noisy', description: 'Carries random bytes from its build', licenses: 'MIT' },
};
const NOISY_IMAGE_NIX = `# A package whose output is not a function of its inputs.
{ lib, ... }:
let
  noise = lib.mkPackage {
    pname = "noise";
    version = "1.0.0";
    build = ''
      mkdir -p $out/share
      head -c 64 /dev/urandom > $out/share/noise.bin
    '';
  };
in
{
  version = "1.0.0";
  contents = [ noise ];
}
`;

describe('reproducibility: an independent rebuild of every image', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  let key: string;

  const cli = (args: string[]) => runCliProcess(args, { cwd: repo.dir, env: releaseEnv() });
  const release = (...extra: string[]) => cli(['release', '--collection', 'example', '--key', key, '--reproduce', '--json', ...extra]);

  beforeAll(async () => {
    repo = await scratchRepo({ git: true });
    key = join(repo.dir, '..', `${Date.now()}-reproduce-key.pem`);
    await writeFile(key, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  });
  afterAll(async () => {
    await repo?.cleanup();
    await rm(key, { force: true });
  });

  let manifestPath: string;

  it('pnpm release --reproduce records a match for every example image, and the page shows it', async () => {
    const r = await release();
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { manifest: string; page: string; images: { name: string; reproducible?: boolean }[] };
    expect(result.images.map((i) => [i.name, i.reproducible])).toEqual([
      ['greeter', true],
      ['hello', true],
      ['toolbox', true],
    ]);
    manifestPath = result.manifest;
    const manifest = await readManifest(manifestPath);
    for (const image of manifest.images) {
      expect(image.reproducibility, image.name).toMatchObject({ match: true, rebuiltDigest: image.digest, differingLayers: [] });
    }
    const html = await readFile(join(result.page, 'index.html'), 'utf8');
    expect(html.match(/<span class="chip passed">reproduced<\/span>/g)?.length).toBe(3);
    expect(html).not.toContain('<span class="chip failed">rebuild differs</span>');
    // The rebuild used a store of its own and removed it: the main store gained no `.check` outputs.
    for (const image of manifest.images) expect(await exists(`${image.outPath}.check`)).toBe(false);
  });

  it('pnpm release reproduce --manifest records the same', async () => {
    const before = await readManifest(manifestPath);
    const r = await cli(['release', 'reproduce', '--manifest', manifestPath]);
    expect(r.code, r.stderr).toBe(0);
    for (const image of before.images) expect(r.stdout).toContain(`${image.name}: reproduced ${image.digest}`);
    const after = await readManifest(manifestPath);
    for (const image of after.images) {
      const earlier = before.images.find((i) => i.name === image.name)!;
      expect(image.reproducibility).toMatchObject({ match: true, rebuiltDigest: image.digest, differingLayers: [] });
      expect(image.reproducibility!.checkedAt > earlier.reproducibility!.checkedAt).toBe(true);
    }
  });

  it('an image with random bytes in it is not reproducible, and its differing layer is named', async () => {
    const dir = join(repo.dir, 'examples', 'images', 'noisy');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(NOISY_PACKAGE_JSON, null, 2)}\n`);
    await writeFile(join(dir, 'image.nix'), NOISY_IMAGE_NIX);
    await run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'add', '-A'], { cwd: repo.dir });
    await run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'noisy image'], { cwd: repo.dir });

    const r = await release();
    // Reproducibility is reported, not enforced: the release completes and says so.
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { manifest: string; page: string };
    const manifest = await readManifest(result.manifest);
    const noisy = manifest.images.find((i) => i.name === 'noisy')!;
    expect(noisy.reproducibility?.match).toBe(false);
    expect(noisy.reproducibility?.rebuiltDigest).not.toBe(noisy.digest);
    const differing = noisy.reproducibility!.differingLayers;
    expect(differing.length).toBeGreaterThan(0);
    for (const layer of differing) {
      expect(layer.expected).toBe(noisy.layers[layer.index]!.digest);
      expect(layer.actual).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(layer.actual).not.toBe(layer.expected);
    }
    // The layer holding the noisy package, named by its store path.
    expect(differing.map((l) => l.storePath)).toEqual([expect.stringMatching(/^\/nix\/store\/[a-z0-9]{32}-noise-1\.0\.0$/)]);
    for (const image of manifest.images.filter((i) => i.name !== 'noisy')) expect(image.reproducibility?.match, image.name).toBe(true);

    const html = await readFile(join(result.page, 'index.html'), 'utf8');
    // The image whose rebuild differs is marked, and its entry starts open.
    expect(html).toContain('<span class="chip failed">rebuild differs</span>');
    expect(html).toMatch(/<details class="image problem" id="image-noisy" open>/);
    const layer = differing[0]!;
    expect(html).toContain(`layer ${layer.index} (${layer.storePath}): expected ${layer.expected}, rebuilt `);

    // The command says it too, records it, and fails.
    const again = await cli(['release', 'reproduce', '--manifest', result.manifest]);
    expect(again.code).toBe(12);
    expect(again.stderr).toContain(`not reproducible: noisy (recorded in ${result.manifest})`);
    expect(again.stdout).toMatch(new RegExp(`noisy: NOT reproducible: rebuilt sha256:[a-f0-9]{64}, released ${noisy.digest}; differing layers: #${layer.index} ${layer.expected} -> sha256:`));
    expect(again.stdout).toContain('hello: reproduced');
    const rechecked = (await readManifest(result.manifest)).images.find((i) => i.name === 'noisy')!;
    expect(rechecked.reproducibility?.match).toBe(false);
    // Another rebuild, other random bytes.
    expect(rechecked.reproducibility?.rebuiltDigest).not.toBe(noisy.reproducibility?.rebuiltDigest);
  });

  it('a missing manifest is refused, naming it', async () => {
    const missing = join(repo.dir, 'no-such-release.json');
    const r = await cli(['release', 'reproduce', '--manifest', missing]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`release manifest not found: ${missing}`);
  });

  it('a manifest naming an image this checkout does not have is refused, and left as it was', async () => {
    const manifest = await readManifest(manifestPath);
    manifest.images[0]!.name = 'vanished';
    const path = join(repo.dir, 'vanished-release.json');
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeFile(path, text);
    const r = await cli(['release', 'reproduce', '--manifest', path]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('image "vanished" of the manifest is not in this checkout\'s catalog');
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('an unknown flag is a usage error', async () => {
    const r = await cli(['release', 'reproduce', '--manifest', manifestPath, '--rebuild-all']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--rebuild-all'");
  });
});

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
