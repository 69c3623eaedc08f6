import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineNixEnv } from '@nixrel/testkit/nix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitStatus, repoRoot, runCli, scratchRepo } from './image-test-helpers.js';

// The CLI adds the offline Nix settings itself when asked to.
const env: NodeJS.ProcessEnv = { ...process.env, RELEASE_NIX_OFFLINE: '1' };
delete env.NIX_CONFIG;

let scratch: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  scratch = await scratchRepo({ git: true });
});
afterAll(() => scratch.cleanup());

describe('pnpm new-image, images, release build through the CLI', () => {
  it('scaffolds an image that is listed and built with no other file touched', async () => {
    const made = await runCli(['new-image', 'demo', '--collection', 'example'], { cwd: scratch.dir, env });
    expect(made.stderr).not.toContain('error');
    expect(made.code).toBe(0);
    expect(made.stdout).toContain('examples/images/demo');
    // Only the new folder: no list of images anywhere was edited.
    expect(await gitStatus(scratch.dir)).toBe('?? examples/images/demo/image.nix\n?? examples/images/demo/package.json\n');

    const listed = await runCli(['images', '--collection', 'example', '--json'], { cwd: scratch.dir, env });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((i) => i.name)).toEqual(['demo', 'greeter', 'hello', 'toolbox']);

    // Untracked by git, and still built: the flake is read as a path.
    const built = await runCli(['release', 'build', '--collection', 'example', '--images', 'demo', '--json'], { cwd: scratch.dir, env });
    expect(built.stderr).not.toMatch(/^error/m);
    expect(built.code).toBe(0);
    const [artifact] = JSON.parse(built.stdout) as { name: string; outPath: string; closurePath: string; format: string; metadata: { title: string } }[];
    expect(artifact).toMatchObject({ name: 'demo', format: 'docker-archive', metadata: { title: 'demo' } });
    expect(existsSync(artifact!.outPath)).toBe(true);
    expect(existsSync(artifact!.closurePath)).toBe(true);
    // Building left nothing behind in the repository (no result links).
    expect(await gitStatus(scratch.dir)).toBe('?? examples/images/demo/image.nix\n?? examples/images/demo/package.json\n');
  });

  it('builds the whole example collection and prints the artifacts', async () => {
    const built = await runCli(['release', 'build', '--collection', 'example'], { cwd: scratch.dir, env: { ...offlineNixEnv(), RELEASE_NIX_OFFLINE: '' } });
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^hello 2\.12\.1 \(docker-archive\)$/m);
    expect(built.stdout).toMatch(/image: \/nix\/store\/[a-z0-9]{32}-docker-image-toolbox\.tar/);
  });

  it.each([
    [['new-image', 'Demo_Image'], 3, /invalid image name "Demo_Image"/],
    [['new-image', 'hello'], 5, /image "hello" already exists in collection "example"/],
    [['new-image', 'fresh', '--collection', 'nope'], 4, /unknown collection "nope"/],
    [['new-image', 'fresh', '--from', 'rm -rf'], 3, /invalid --from "rm -rf"/],
    [['new-image'], 2, /expected exactly one image name/],
    [['images', '--collection', 'nope'], 4, /unknown collection "nope"; collections: example, sbomify/],
    [['images', '--bogus'], 2, /--bogus/],
    [['release', 'build', '--collection', 'example', '--images', 'nope'], 4, /unknown image "nope" in collection "example"/],
    [['release', 'build'], 2, /name a collection/],
  ])('%j fails with exit %i and a clear message', async (args, code, message) => {
    const before = await gitStatus(scratch.dir);
    const r = await runCli(args as string[], { cwd: scratch.dir, env });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(await gitStatus(scratch.dir)).toBe(before); // nothing written
    expect(readdirSync(join(scratch.dir, 'examples/images'))).not.toContain('Demo_Image');
  });

  it('scaffolds a nixpkgs image for the sbomify collection', async () => {
    const r = await runCli(['new-image', 'nginx', '--collection', 'sbomify', '--description', 'nginx web server'], { cwd: scratch.dir, env });
    expect(r.code).toBe(0);
    const nix = readFileSync(join(scratch.dir, 'packages/images/nginx/image.nix'), 'utf8');
    expect(nix).toContain('pkgs.nginx');
    expect(nix).toContain('imageLib.licenseOf');
    expect(JSON.parse(readFileSync(join(scratch.dir, 'packages/images/nginx/package.json'), 'utf8')).image).toEqual({
      name: 'nginx',
      collection: 'sbomify',
      title: 'nginx',
      description: 'nginx web server',
    });
  });
});

describe('pnpm images on this repository', () => {
  it('lists exactly the seven sbomify images without evaluating Nix', async () => {
    // A PATH holding node and nothing else: listing must not need nix.
    const bin = await mkdtemp(join(tmpdir(), 'nixrel-bin-'));
    await symlink(process.execPath, join(bin, 'node'));
    const r = await runCli(['images', '--collection', 'sbomify', '--json'], { cwd: repoRoot, env: { ...process.env, PATH: bin } });
    await rm(bin, { recursive: true });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((i) => i.name)).toEqual([
      'minio',
      'postgres',
      'redis',
      'sbomify-app',
      'sbomify-caddy-dev',
      'sbomify-keycloak',
      'sbomify-minio-init',
    ]);
  });
});
