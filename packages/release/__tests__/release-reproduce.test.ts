import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
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
  let pageDir: string;

  /** page.json of a rendered page: what it showed and the policy it was verified with. */
  const pageSummary = async (dir: string) =>
    JSON.parse(await readFile(join(dir, 'page.json'), 'utf8')) as {
      version: string;
      verification: { rendered: boolean; passed: number; total: number; checkedAt: string };
      reproduced: number;
      policy?: { mode: string; keyFingerprint?: string };
    };
  /** The page shows the release.json now on disk, and verified every check with the key the release claims. */
  const expectVerifiedPageOf = async (dir: string) => {
    expect(await readFile(join(dir, 'release.json'), 'utf8')).toBe(await readFile(manifestPath, 'utf8'));
    const summary = await pageSummary(dir);
    expect(summary.verification.rendered).toBe(true);
    expect(summary.verification.total).toBeGreaterThan(0);
    expect(summary.verification.passed).toBe(summary.verification.total);
    expect(summary.policy).toEqual({ mode: 'key', keyFingerprint: (await readManifest(manifestPath)).signer.keyFingerprint });
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html.match(/<span class="chip passed">reproduced<\/span>/g)?.length).toBe(3);
    return summary;
  };

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
    pageDir = result.page;
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

  it('pnpm release reproduce --manifest records the same, and re-renders the page with the policy it was verified with', async () => {
    const before = await readManifest(manifestPath);
    const pageBefore = await pageSummary(pageDir);
    const r = await cli(['release', 'reproduce', '--manifest', manifestPath]);
    expect(r.code, r.stderr).toBe(0);
    for (const image of before.images) expect(r.stdout).toContain(`${image.name}: reproduced ${image.digest}`);
    const after = await readManifest(manifestPath);
    for (const image of after.images) {
      const earlier = before.images.find((i) => i.name === image.name)!;
      expect(image.reproducibility).toMatchObject({ match: true, rebuiltDigest: image.digest, differingLayers: [] });
      expect(image.reproducibility!.checkedAt > earlier.reproducibility!.checkedAt).toBe(true);
    }
    expect(r.stdout).toContain(`page site/${after.version} re-rendered: every verification check passed or is shown as not checked`);
    // Verified again just now, and rendered from the release.json carrying the new rebuild's results.
    const pageAfter = await expectVerifiedPageOf(pageDir);
    expect(pageAfter.verification.checkedAt > pageBefore.verification.checkedAt).toBe(true);
  });

  it('policy flags verify the page with the verifier\'s key; a page recording no policy is left as it was, naming the command', async () => {
    const publicKey = join(repo.dir, '..', `${Date.now()}-reproduce-key.pub`);
    await writeFile(publicKey, createPublicKey(await readFile(key, 'utf8')).export({ format: 'pem', type: 'spki' }));
    try {
      // A page from before pages recorded their policy: the flags are what it is verified with.
      const summaryPath = join(pageDir, 'page.json');
      const { policy: _policy, ...unpinned } = await pageSummary(pageDir);
      await writeFile(summaryPath, JSON.stringify(unpinned));
      const withKey = await cli(['release', 'reproduce', '--manifest', manifestPath, '--key', publicKey]);
      expect(withKey.code, withKey.stderr).toBe(0);
      expect(withKey.stdout).toContain('re-rendered: every verification check passed');
      await expectVerifiedPageOf(pageDir);

      await writeFile(summaryPath, JSON.stringify(unpinned));
      const without = await cli(['release', 'reproduce', '--manifest', manifestPath]);
      expect(without.code, without.stderr).toBe(0);
      expect(without.stdout).toContain(
        `page site/${unpinned.version} not re-rendered: it records no verification policy; to verify the release and render it: pnpm page --manifest ${relative(repo.dir, manifestPath)} --out site/${unpinned.version} --key FILE\n`,
      );
      expect(await readFile(summaryPath, 'utf8')).toBe(JSON.stringify(unpinned));
    } finally {
      await rm(publicKey, { force: true });
    }
  });

  it('a key beside the release other than the one the page was verified with is refused before any rebuild', async () => {
    const published = join(dirname(manifestPath), 'keys', 'release.pub');
    const original = await readFile(published, 'utf8');
    const manifestText = await readFile(manifestPath, 'utf8');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'pem', type: 'spki' });
    // The page records the release's key as the one it was verified with.
    const { policy: _policy, ...summary } = await pageSummary(pageDir);
    const fingerprint = (await readManifest(manifestPath)).signer.keyFingerprint;
    await writeFile(join(pageDir, 'page.json'), JSON.stringify({ ...summary, policy: { mode: 'key', keyFingerprint: fingerprint } }));
    await writeFile(published, other);
    try {
      const r = await cli(['release', 'reproduce', '--manifest', manifestPath]);
      expect(r.code).toBe(16);
      expect(r.stderr).toContain(`${published} is the key sha256:`);
      expect(r.stderr).toContain(`not the key ${fingerprint} the page was verified with; refusing to re-render the page with it`);
      expect(r.stderr).not.toContain('rebuilding');
      expect(await readFile(manifestPath, 'utf8')).toBe(manifestText);
    } finally {
      await writeFile(published, original);
    }
  });

  it('--page naming a directory the tool did not write is refused before any rebuild', async () => {
    const foreign = join(repo.dir, 'docs-of-mine');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    const r = await cli(['release', 'reproduce', '--manifest', manifestPath, '--page', foreign]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`refusing to write into ${foreign}: it is not empty and was not written by this tool`);
    expect(r.stderr).toContain('Pass --page a new or empty directory');
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
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
    // Recorded, then the page re-rendered with this rebuild's layer, still verified, before the command failed.
    expect(again.stdout).toContain(`page site/${manifest.version} re-rendered: every verification check passed`);
    const rebuiltLayer = rechecked.reproducibility!.differingLayers[0]!;
    const rerendered = await readFile(join(result.page, 'index.html'), 'utf8');
    expect(rerendered).toContain(`layer ${rebuiltLayer.index} (${rebuiltLayer.storePath}): expected ${rebuiltLayer.expected}, rebuilt ${rebuiltLayer.actual}`);
    expect(rerendered).not.toContain(layer.actual);
    expect(rerendered.match(/<span class="chip passed">reproduced<\/span>/g)?.length).toBe(3);
    expect(rerendered).toContain('<span class="chip failed">rebuild differs</span>');
    const rerenderedSummary = await pageSummary(result.page);
    expect(rerenderedSummary.verification.passed).toBe(rerenderedSummary.verification.total);
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
