/**
 * Release benchmark: `pnpm release --collection example --registry <loopback>/example`
 * in a scratch copy of the repository, to a real docker-registry behind a
 * byte-counting loopback proxy. Measures, in one run:
 *
 *   1. the first release (publish, SBOM, provenance, signing, verification, page);
 *   2. the same command again with no change: wall time as a share of the first
 *      (target <= 0.1) and the bytes it uploads (0 expected);
 *   3. the same command after deleting `.release/<version>/` (the state), with the
 *      registry kept: every blob is found by HEAD, so 0 layer bytes go up again;
 *
 * and, for scale, what a user would run instead to (re)publish the same three
 * archives: `skopeo copy docker-archive:… docker://…`, first and again.
 *
 *   pnpm exec tsx --conditions=source bench/release.ts
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ReleaseManifest } from '../packages/core/src/index.js';
import { repoRoot, scratchRepo } from '../packages/release/__tests__/image-test-helpers.js';
import { readManifest } from '../packages/release/__tests__/release-helpers.js';
import { offlineNixEnv } from '../packages/testkit/src/nix.js';
import { startRegistry } from '../packages/testkit/src/registry.js';

const run = promisify(execFile);

/** What went up through the proxy: blob bytes by digest, and manifest bytes. */
interface Uploads {
  blobs: Map<string, number>;
  manifestBytes: number;
  requests: number;
}

/**
 * A reverse proxy that counts request bodies: blob uploads (POST/PATCH/PUT on
 * `/blobs/uploads/<session>`, attributed to the digest of the closing PUT) and
 * manifest PUTs. The registry's absolute upload locations are rewritten to
 * point back at the proxy, so every byte passes through it.
 */
async function countingProxy(upstream: string): Promise<{ url: string; take(): Uploads; stop(): Promise<void> }> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  let uploads: Uploads = { blobs: new Map(), manifestBytes: 0, requests: 0 };
  const sessions = new Map<string, number>();
  let self = '';
  const server = createServer((req, res) => {
    uploads.requests++;
    let bytes = 0;
    const up = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const session = /\/blobs\/uploads\/([^/]+)$/.exec(url.pathname)?.[1];
      if (session) sessions.set(session, (sessions.get(session) ?? 0) + bytes);
      const digest = url.searchParams.get('digest');
      if (session && req.method === 'PUT' && digest && (upRes.statusCode ?? 0) < 300) {
        uploads.blobs.set(digest, (uploads.blobs.get(digest) ?? 0) + sessions.get(session)!);
        sessions.delete(session);
      }
      if (req.method === 'PUT' && /\/manifests\//.test(url.pathname)) uploads.manifestBytes += bytes;
      const headers = { ...upRes.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${upstream}`, `//${self}`);
      res.writeHead(upRes.statusCode ?? 502, headers);
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    take() {
      const taken = uploads;
      uploads = { blobs: new Map(), manifestBytes: 0, requests: 0 };
      return taken;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/**
 * Real images are hundreds of MiB (the sbomify collection's seven add up to
 * a few GiB); the three examples are a few KiB, which would measure only
 * start-up. The scratch collection gets one image of four 256 MiB layers
 * (deterministic bytes: AES-CTR over zeros with a fixed key).
 */
async function addPayloadImage(dir: string): Promise<void> {
  const image = join(dir, 'examples', 'images', 'payload');
  await mkdir(image, { recursive: true });
  await writeFile(
    join(image, 'package.json'),
    `${JSON.stringify({ name: '@images/payload', private: true, version: '0.0.0', image: { name: 'payload', collection: 'example', title: 'payload', description: 'Four 256 MiB layers, for benchmarks' } }, null, 2)}\n`,
  );
  await writeFile(
    join(image, 'image.nix'),
    `{ lib, ... }:
let
  blob = n: lib.mkPackage {
    pname = "payload-\${n}";
    version = "1.0.0";
    build = ''
      mkdir -p $out/share
      head -c 268435456 /dev/zero | openssl enc -aes-128-ctr -nosalt -K 0000000000000000000000000000000\${n} -iv 00000000000000000000000000000000 > $out/share/data
    '';
  };
in { version = "1.0.0"; contents = [ (blob "1") (blob "2") (blob "3") (blob "4") ]; config = { }; }
`,
  );
}

// The command a user runs (`pnpm release`) runs the compiled CLI.
await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/release', 'apps/provenance-page'], { cwd: repoRoot });
const cliPath = join(repoRoot, 'packages', 'release', 'dist', 'cli.js');
function runCli(args: string[], opts: { cwd: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  // INIT_CWD (set by pnpm) would point the CLI at this repository instead of the scratch copy.
  const { INIT_CWD: _ignored, ...env }: NodeJS.ProcessEnv = { ...offlineNixEnv(process.env), CI: '1' };
  return run(process.execPath, [cliPath, ...args], { cwd: opts.cwd, env, maxBuffer: 64 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

const registry = await startRegistry();
const proxy = await countingProxy(registry.url);
const repo = await scratchRepo({ git: true });
await addPayloadImage(repo.dir);
await run('git', ['add', '-A'], { cwd: repo.dir });
await run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-qm', 'payload image'], { cwd: repo.dir });
// Nix builds first, outside the timings: the benchmark is about the release.
const built = await runCli(['release', 'build', '--collection', 'example'], { cwd: repo.dir });
if (built.code !== 0) throw new Error(`nix build failed:\n${built.stderr}`);
try {
  let manifest: ReleaseManifest | undefined;
  const release = async (label: string) => {
    const t0 = performance.now();
    const r = await runCli(['release', '--collection', 'example', '--registry', `${proxy.url}/example`], { cwd: repo.dir });
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`${label}: release exited ${r.code}\n${r.stderr}`);
    manifest = await readManifest(join(repo.dir, /^manifest: (\S+)$/m.exec(r.stdout)![1]!));
    // The progress clock starts once the command is loaded: the last mark is the release's own work.
    const marks = [...r.stderr.matchAll(/^\[(\d+\.\d)s\]/gm)].map((m) => Number(m[1]) * 1000);
    const uploads = proxy.take();
    const layerDigests = new Set(manifest.images.flatMap((i) => i.layers.map((l) => l.digest)));
    const layerBytes = sum([...uploads.blobs].filter(([d]) => layerDigests.has(d)).map(([, n]) => n));
    const totalBytes = sum(uploads.blobs.values()) + uploads.manifestBytes;
    return { label, ms, workMs: marks.at(-1) ?? Number.NaN, layerBytes, totalBytes, requests: uploads.requests };
  };

  const first = await release('first release');
  const second = await release('again, no change');
  await rm(join(repo.dir, '.release', manifest!.version), { recursive: true, force: true });
  const stateless = await release('again, state deleted, registry kept');

  // What a user would run instead to publish the same archives: skopeo, first and again.
  const skopeo = async () => {
    const t0 = performance.now();
    for (const image of manifest!.images) {
      await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${image.outPath}`, `docker://${registry.url}/skopeo/${image.name}:latest`]);
    }
    return performance.now() - t0;
  };
  const skopeoFirst = await skopeo();
  const skopeoAgain = await skopeo();

  const layerTotal = sum(manifest!.images.flatMap((i) => i.layers.map((l) => l.size)));
  console.log(`pnpm release --collection example (${manifest!.images.length} images, ${(layerTotal / 1048576).toFixed(1)} MiB of layers) to a loopback docker-registry; Nix outputs already built`);
  for (const r of [first, second, stateless]) {
    console.log(
      `  ${r.label.padEnd(38)} ${seconds(r.ms).padStart(8)} (release work ${seconds(r.workMs)})   ratio to first ${(r.ms / first.ms).toFixed(3)}   uploaded: ${r.layerBytes} layer bytes, ${r.totalBytes} bytes in all (${r.requests} requests)`,
    );
  }
  console.log(`  no-change release / first:            ${(second.ms / first.ms).toFixed(3)} (target <= 0.1); release work only: ${(second.workMs / first.workMs).toFixed(3)}`);
  console.log(`  stateless release / first:            ${(stateless.ms / first.ms).toFixed(3)}; layer bytes uploaded again: ${stateless.layerBytes}`);
  console.log(`  skopeo copy of the same archives:     first ${seconds(skopeoFirst)}, again ${seconds(skopeoAgain)}`);
  console.log(`  no-change release / skopeo re-copy:   ${(second.ms / skopeoAgain).toFixed(2)} (the release also re-verifies every signature)`);
} finally {
  await proxy.stop();
  await registry.stop();
  await repo.cleanup();
}
