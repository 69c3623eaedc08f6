/**
 * Bad input to `pnpm release`, through the real CLI in scratch repositories:
 * each case fails with a clear error naming the input and its exit code,
 * publishes nothing (no collection tag, no page), and leaves a state from which
 * the same release completes once the cause is fixed.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXIT_CODES, type ImageRecord, readJsonFile } from '@nixrel/core';
import { listReferrers, listTags, resolveImage } from '@nixrel/oci';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, scratchRepo } from './image-test-helpers.js';
import { type Run, readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);
const IMAGES = ['greeter', 'hello', 'toolbox'];

let registry: RegistryHandle;
let stack: SigstoreStack;
let tokenFile: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [registry, stack] = await Promise.all([startRegistry(), startSigstoreStack()]);
  const dir = await mkdtemp(join(tmpdir(), 'nixrel-token-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  tokenFile = join(dir, 'oidc-token');
  await writeFile(tokenFile, await stack.mintToken());
});
afterAll(async () => {
  await Promise.all([registry?.stop(), stack?.stop(), ...cleanups.map((c) => c())]);
});

async function repo(): Promise<string> {
  const r = await scratchRepo({ git: true });
  cleanups.push(r.cleanup);
  return r.dir;
}

function release(dir: string, args: string[], env = releaseEnv()): Promise<Run> {
  return runCliProcess(['release', '--collection', 'example', ...args], { cwd: dir, env });
}

/** Pushes an image that is not the release's to `<registry>/<repository>:<tag>`; returns its digest. */
async function pushOtherImage(dir: string, repository: string, tag: string): Promise<string> {
  const archive = join(dir, '..', `${Date.now()}-other.tar`);
  cleanups.push(() => rm(archive, { force: true }));
  await writeDockerArchive(archive, { layers: [{ files: [{ name: 'etc/other', data: `not the release's ${repository}` }] }], seed: `other-${repository}` });
  const push = await runCliProcess(['release', 'push', archive, `${registry.url}/${repository}`, '--tag', tag, '--json'], { cwd: dir, env: releaseEnv() });
  expect(push.code, push.stderr).toBe(0);
  return (JSON.parse(push.stdout) as { digest: string }).digest;
}

/** Tags of `<registry>/<namespace>/<image>`, none when the repository does not exist. */
async function tagsOf(host: string, namespace: string, image: string): Promise<string[]> {
  return listTags(`${host}/${namespace}/${image}`).catch(() => []);
}

/** No collection tag on any image, no page: what a consumer could see of the release is absent. */
async function expectNothingPublished(dir: string, host: string, namespace: string): Promise<void> {
  for (const image of IMAGES) expect((await tagsOf(host, namespace, image)).filter((t) => t.startsWith('example-v'))).toEqual([]);
  expect(existsSync(join(dir, 'site'))).toBe(false);
  const pointer = join(dir, '.release', 'example.last.json');
  if (existsSync(pointer)) expect((await readJsonFile<{ complete: boolean }>(pointer)).complete).toBe(false);
}

/** Refused before anything ran: no state, no page, no repository in the registry. */
async function expectNothingWritten(dir: string, namespace: string): Promise<void> {
  expect(existsSync(join(dir, '.release'))).toBe(false);
  expect(existsSync(join(dir, 'site'))).toBe(false);
  expect((await registry.catalog()).filter((r) => r.startsWith(`${namespace}/`))).toEqual([]);
}

/** The release finished: every image verified, carries the collection tag, and the page exists. */
async function expectReleased(r: Run, host: string, namespace: string, images = IMAGES): Promise<string> {
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout) as { version: string; manifest: string; page: string };
  const manifest = await readManifest(result.manifest);
  expect(manifest.images.map((i) => i.name)).toEqual(images);
  for (const image of manifest.images) {
    expect(image.verification?.ok).toBe(true);
    expect((await resolveImage(`${host}/${namespace}/${image.name}:${result.version}`)).digest).toBe(image.digest);
  }
  expect(existsSync(join(result.page, 'index.html'))).toBe(true);
  return result.version;
}

async function records(dir: string): Promise<ImageRecord[]> {
  const root = join(dir, '.release');
  const versions = (await readdir(root)).filter((v) => v.startsWith('example-v'));
  const out: ImageRecord[] = [];
  for (const v of versions) {
    const images = join(root, v, 'images');
    if (!existsSync(images)) continue;
    for (const f of await readdir(images)) out.push(await readJsonFile<ImageRecord>(join(images, f)));
  }
  return out;
}

/**
 * The registry's address, served by a loopback forwarder that can be taken
 * down (connections refused and cut) and brought back on the same port, while
 * the registry and its storage stay: a registry outage and its recovery.
 */
async function startOutage(upstream: string): Promise<{ url: string; down: () => Promise<void>; up: () => Promise<void>; stop: () => Promise<void> }> {
  const [host, port] = upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let address = 0;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const target = connect(Number(port), host);
        for (const s of [client, target]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(target).pipe(client);
      });
      server.once('error', reject);
      server.listen(address, '127.0.0.1', () => {
        address = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server ? server.close(() => resolve()) : resolve();
      server = undefined;
    });
  await up();
  return { url: `127.0.0.1:${address}`, up, down, stop: down };
}

/** Runs the CLI, calling `onStderr` with everything it printed so far on each chunk of stderr. */
function releaseWatching(dir: string, args: string[], onStderr: (stderr: string) => void): Promise<Run> {
  const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
  const cli = join(repoRoot, 'packages', 'release', 'src', 'cli.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, ['--conditions=source', cli, 'release', '--collection', 'example', ...args], { cwd: dir, env: releaseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr(stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// The cases are independent (own repository, own registry namespace) and mostly
// wait on processes, registries and retries: they run side by side.
describe.concurrent('pnpm release with bad input', { timeout: 120_000 }, () => {
  describe('unknown names', () => {
    it('an unknown image or collection is NOT_FOUND, named, with nothing written; the corrected command releases', async () => {
      const dir = await repo();
      const ns = 'names';
      const image = await release(dir, ['--images', 'hello,nope', '--registry', `${registry.url}/${ns}`]);
      expect(image.code).toBe(EXIT_CODES.NOT_FOUND);
      expect(image.stderr).toMatch(/unknown image "nope" in collection "example"; images: greeter, hello, toolbox/);
      await expectNothingWritten(dir, ns);

      const collection = await runCliProcess(['release', '--collection', 'nope', '--registry', `${registry.url}/${ns}`], { cwd: dir, env: releaseEnv() });
      expect(collection.code).toBe(EXIT_CODES.NOT_FOUND);
      expect(collection.stderr).toMatch(/unknown collection "nope"; collections: example, sbomify/);
      await expectNothingWritten(dir, ns);

      await expectReleased(await release(dir, ['--images', 'hello', '--registry', `${registry.url}/${ns}`, '--json']), registry.url, ns, ['hello']);
    });
  });

  describe('malformed flags', () => {
    it.each([
      [['--version', 'not a version'], EXIT_CODES.INVALID_INPUT, /invalid --version "not a version"/],
      [['--version', '../../outside'], EXIT_CODES.INVALID_INPUT, /invalid --version "\.\.\/\.\.\/outside"/],
      [['--concurrency', '0'], EXIT_CODES.USAGE, /--concurrency must be a whole number from 1 to 16, not "0"/],
      [['--concurrency', 'many'], EXIT_CODES.USAGE, /--concurrency must be a whole number from 1 to 16, not "many"/],
      [['--registry', 'Not A Registry/x'], EXIT_CODES.INVALID_INPUT, /invalid --registry "Not A Registry\/x"/],
      [['--registry', '127.0.0.1:5000/Upper/Case'], EXIT_CODES.INVALID_INPUT, /invalid --registry "127\.0\.0\.1:5000\/Upper\/Case".*lowercase/],
      [['--registry', '127.0.0.1:5000/example:latest'], EXIT_CODES.INVALID_INPUT, /invalid --registry "127\.0\.0\.1:5000\/example:latest"/],
      [['--registry', 'oci:'], EXIT_CODES.INVALID_INPUT, /invalid --registry "oci:": no directory/],
      [['--out', '.'], EXIT_CODES.INVALID_INPUT, /refusing to write into \/\S+: it is the repository root; .*Pass --out a new or empty directory/],
      [['--out', '..'], EXIT_CODES.INVALID_INPUT, /refusing to write into \/\S+: it contains the repository/],
      [['--out', '/'], EXIT_CODES.INVALID_INPUT, /refusing to write into \/: it is the filesystem root/],
      [['--out', 'examples'], EXIT_CODES.INVALID_INPUT, /refusing to write into \/\S+\/examples: it is not empty and was not written by this tool/],
    ])('%j exits %i before building, writing or pushing anything', async (args, code, message) => {
      const dir = await repo();
      const r = await release(dir, [...args, ...(args[0] === '--registry' ? [] : ['--registry', `${registry.url}/flags`])]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      // Refused up front: the build never started.
      expect(r.stderr).not.toMatch(/: build/);
      await expectNothingWritten(dir, 'flags');
    });

    it('the same release with valid flags completes under the version given', async () => {
      const dir = await repo();
      const bad = await release(dir, ['--version', 'example v1', '--concurrency', '1', '--registry', `${registry.url}/fixed`]);
      expect(bad.code).toBe(EXIT_CODES.INVALID_INPUT);
      await expectNothingWritten(dir, 'fixed');
      const version = await expectReleased(
        await release(dir, ['--version', 'example-v1-fixed.1', '--concurrency', '1', '--registry', `${registry.url}/fixed`, '--json']),
        registry.url,
        'fixed',
      );
      expect(version).toBe('example-v1-fixed.1');
    });
  });

  describe('a collection tag that already points elsewhere', () => {
    it('refuses the release before release.json, the page or any collection tag appear', async () => {
      const dir = await repo();
      const ns = 'collection-conflict';
      const version = 'example-v1-taken.1';
      const other = await pushOtherImage(dir, `${ns}/toolbox`, version);

      const r = await release(dir, ['--registry', `${registry.url}/${ns}`, '--version', version]);
      expect(r.code, r.stderr).toBe(EXIT_CODES.CONFLICT);
      expect(r.stderr).toContain(`tag ${registry.url}/${ns}/toolbox:${version} already points at ${other}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect((await resolveImage(`${registry.url}/${ns}/toolbox:${version}`)).digest).toBe(other);
      for (const image of ['greeter', 'hello']) expect(await tagsOf(registry.url, ns, image)).not.toContain(version);
      expect(existsSync(join(dir, '.release', version, 'release.json'))).toBe(false);
      expect(existsSync(join(dir, 'site'))).toBe(false);
    });
  });

  describe('corrupt state files', () => {
    it('a record that is not one is refused naming the file and the fix, without a stack; the fix works; a cut-short release.json is written again', async () => {
      const dir = await repo();
      const ns = 'corrupt';
      const version = 'example-v1-corrupt.1';
      const args = ['--registry', `${registry.url}/${ns}`, '--version', version, '--json'];
      await expectReleased(await release(dir, args), registry.url, ns);
      const record = join(dir, '.release', version, 'images', 'hello.json');
      for (const text of ['[]', '{}', '{"name": "hel']) {
        await writeFile(record, text);
        const r = await release(dir, args);
        expect(r.code, r.stderr).toBe(EXIT_CODES.SCHEMA_INVALID);
        expect(r.stderr).toContain(`image record ${record} is not valid`);
        expect(r.stderr).toContain(`delete ${record} and run the same command again`);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      await rm(record);
      await expectReleased(await release(dir, args), registry.url, ns);
      const manifest = join(dir, '.release', version, 'release.json');
      const whole = await readFile(manifest, 'utf8');
      await writeFile(manifest, whole.slice(0, 100));
      await expectReleased(await release(dir, args), registry.url, ns);
      expect(JSON.parse(await readFile(manifest, 'utf8')).version).toBe(version);
    }, 240_000);
  });

  describe('two releases of one version at once', () => {
    it('one completes, the other fails at once naming the holder; with --wait the second waits and then re-checks it', async () => {
      const dir = await repo();
      const ns = 'concurrent';
      const args = ['--registry', `${registry.url}/${ns}`, '--version', 'example-v1-twice.1', '--json'];
      const [a, b] = await Promise.all([release(dir, args), release(dir, args)]);
      const [won, lost] = a.code === 0 ? [a, b] : [b, a];
      await expectReleased(won, registry.url, ns);
      expect(lost.code, lost.stderr).toBe(EXIT_CODES.CONFLICT);
      expect(lost.stderr).toMatch(/\.release\/example-v1-twice\.1 is in use by another release \(pid \d+ on /);
      expect(lost.stderr).toMatch(/run again with --wait/);

      const waiting = await Promise.all([release(dir, [...args, '--wait']), release(dir, [...args, '--wait'])]);
      for (const r of waiting) await expectReleased(r, registry.url, ns);
      // The state is whole: a plain re-run completes too, and no lock is left behind.
      await expectReleased(await release(dir, args), registry.url, ns);
      expect(existsSync(join(dir, '.release', 'example-v1-twice.1', '.lock'))).toBe(false);
    });
  });

  describe('a component tag that already points elsewhere', () => {
    it('is a CONFLICT naming the tag; the tag is not moved; once removed, the release completes', async () => {
      const dir = await repo();
      const ns = 'conflict';
      const plan = await runCliProcess(['release', 'plan', '--collection', 'example', '--registry', `${registry.url}/${ns}`, '--json'], { cwd: dir, env: releaseEnv() });
      expect(plan.code, plan.stderr).toBe(0);
      const { commit, images } = JSON.parse(plan.stdout) as { commit: string; images: { name: string; version: string }[] };
      const greeter = images.find((i) => i.name === 'greeter')!;
      const tag = `greeter-${greeter.version}-${commit.slice(0, 7)}`;

      // Another image already holds the tag the release wants.
      const other = await pushOtherImage(dir, `${ns}/greeter`, tag);

      const r = await release(dir, ['--registry', `${registry.url}/${ns}`]);
      expect(r.code, r.stderr).toBe(EXIT_CODES.CONFLICT);
      expect(r.stderr).toContain(`tag ${registry.url}/${ns}/greeter:${tag} already points at ${other}`);
      expect((await resolveImage(`${registry.url}/${ns}/greeter:${tag}`)).digest).toBe(other);
      await expectNothingPublished(dir, registry.url, ns);

      // The owner removes the stray image; the same command then completes.
      await run('skopeo', ['delete', '--tls-verify=false', `docker://${registry.url}/${ns}/greeter:${tag}`]);
      await expectReleased(await release(dir, ['--registry', `${registry.url}/${ns}`, '--json']), registry.url, ns);
      expect((await resolveImage(`${registry.url}/${ns}/greeter:${tag}`)).digest).not.toBe(other);
    });
  });

  describe('no Nix on PATH', () => {
    it('is TOOL_MISSING naming nix, with nothing written; with Nix back the release completes', async () => {
      const dir = await repo();
      const ns = 'nonix';
      // A PATH with node and git, and no nix.
      const bin = await mkdtemp(join(tmpdir(), 'nixrel-bin-'));
      cleanups.push(() => rm(bin, { recursive: true, force: true }));
      const which = async (tool: string) => (await run('sh', ['-c', 'command -v "$1"', 'sh', tool])).stdout.trim();
      for (const tool of ['node', 'git']) await symlink(await which(tool), join(bin, tool));

      const r = await release(dir, ['--registry', `${registry.url}/${ns}`], releaseEnv({ PATH: bin }));
      expect(r.code, r.stderr).toBe(EXIT_CODES.TOOL_MISSING);
      expect(r.stderr).toMatch(/\bnix\b.*(not found|PATH)/i);
      await expectNothingWritten(dir, ns);

      await expectReleased(await release(dir, ['--registry', `${registry.url}/${ns}`, '--json']), registry.url, ns);
    });
  });

  describe('the registry going down mid-release', () => {
    it('fails with a network error naming the registry, publishes nothing, and resumes when it is back', async () => {
      const dir = await repo();
      const ns = 'outage';
      const outage = await startOutage(registry.url);
      cleanups.push(outage.stop);
      let cut = false;
      const r = await releaseWatching(dir, ['--registry', `${outage.url}/${ns}`, '--concurrency', '1'], (stderr) => {
        // Down as soon as the first image has been pushed.
        if (!cut && /greeter: sbom/.test(stderr)) {
          cut = true;
          void outage.down();
        }
      });
      expect(cut).toBe(true);
      expect([EXIT_CODES.NETWORK_ERROR, EXIT_CODES.REGISTRY_ERROR]).toContain(r.code);
      expect(r.stderr).toContain(outage.url);
      expect(r.stderr).toMatch(/run the same command again to resume|failed after \d+ attempts/);

      await outage.up();
      await expectNothingPublished(dir, outage.url, ns);
      const before = await records(dir);
      const published = before.filter((rec) => rec.stages.publish);
      expect(published.map((rec) => rec.name)).toContain('greeter');

      // Back on the same address with the same storage: the same command finishes the same release.
      const again = await release(dir, ['--registry', `${outage.url}/${ns}`, '--concurrency', '1', '--json']);
      await expectReleased(again, outage.url, ns);
      const after = await records(dir);
      // What was pushed before the outage is not pushed again.
      for (const rec of published) expect(after.find((a) => a.name === rec.name)?.stages.publish).toEqual(rec.stages.publish);
    });
  });

  describe('a failing signer', () => {
    it('Fulcio or Rekor answering 500 is a SIGNING_ERROR with nothing attached or published; once they recover the same command completes', async () => {
      const dir = await repo();
      const ns = 'signer';
      const args = [
        '--registry', `${registry.url}/${ns}`,
        '--signer', 'keyless',
        '--fulcio-url', stack.fulcioUrl,
        '--rekor-url', stack.rekorUrl,
        '--tsa-url', stack.tsaUrl,
        '--trusted-root', stack.trustedRootPath,
        '--identity-token-file', tokenFile,
      ];
      const nothingAttached = async () => {
        const recs = await records(dir);
        expect(recs.map((rec) => rec.name).sort()).toEqual(IMAGES);
        for (const rec of recs) {
          expect(rec.digest).toBeDefined();
          expect(await listReferrers(`${registry.url}/${ns}/${rec.name}@${rec.digest}`)).toEqual([]);
          expect(rec.attestations).toEqual([]);
        }
      };

      stack.fail('fulcio', { status: 500, message: 'fulcio is down' });
      try {
        const r = await release(dir, args);
        expect(r.code, r.stderr).toBe(EXIT_CODES.SIGNING_ERROR);
        expect(r.stderr).toMatch(/fulcio/i);
        await nothingAttached();
        await expectNothingPublished(dir, registry.url, ns);
      } finally {
        stack.fail('fulcio', null);
      }

      stack.fail('rekor', { status: 500, message: 'rekor is down' });
      try {
        const r = await release(dir, args);
        expect(r.code, r.stderr).toBe(EXIT_CODES.SIGNING_ERROR);
        expect(r.stderr).toMatch(/rekor|transparency log|tlog/i);
        await nothingAttached();
        await expectNothingPublished(dir, registry.url, ns);
      } finally {
        stack.fail('rekor', null);
      }

      await expectReleased(await release(dir, [...args, '--json']), registry.url, ns);
    });
  });
});
