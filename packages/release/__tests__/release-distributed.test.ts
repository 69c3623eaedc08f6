/**
 * The release as the workflows split it (.github/workflows/release.yml and
 * attest.yml), on one machine: `plan`, one `image` job per matrix entry, the
 * isolated `attest-all` job, then `collect`. Every job runs in its own checkout
 * of the same commit, and only `.release/<version>/` travels between jobs, as
 * the workflows' artifacts carry it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { EXIT_CODES, type ImageRecord } from '@nixrel/core';
import { resolveImage } from '@nixrel/oci';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { DEFAULT_WORKFLOW_IDENTITY, type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, scratchRepo } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);
const IMAGES = ['greeter', 'hello', 'toolbox'];
/** Digests the distributed release published, for the dry run to compare with. */
let releasedDigests: string[] | undefined;

let registry: RegistryHandle;
let stack: SigstoreStack;
let origin: { dir: string; cleanup: () => Promise<void> };
let work: string;
/** PATH of a runner without Nix: the attest and collect jobs install none. */
let pathWithoutNix: string;

beforeAll(async () => {
  // GitHub's tokens live minutes; these live seconds, so a release that reused its first token would fail.
  [registry, stack, origin] = await Promise.all([startRegistry(), startSigstoreStack({ actionsTokenLifetime: 5 }), scratchRepo({ git: true })]);
  work = await mkdtemp(join(tmpdir(), 'nixrel-ci-'));
  pathWithoutNix = join(work, 'bin');
  await mkdir(pathWithoutNix);
  for (const tool of ['node', 'git']) await symlink((await run('sh', ['-c', 'command -v "$1"', 'sh', tool])).stdout.trim(), join(pathWithoutNix, tool));
  // The repository's own flake.lock sits at the root, beside the example flake (which has none).
  await cp(join(repoRoot, 'flake.lock'), join(origin.dir, 'flake.lock'));
  await run('git', ['add', 'flake.lock'], { cwd: origin.dir });
  await run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'lock'], { cwd: origin.dir });
});
afterAll(async () => {
  await Promise.all([registry?.stop(), stack?.stop(), origin?.cleanup(), work && rm(work, { recursive: true, force: true })]);
});

let machines = 0;
/** A fresh runner: its own checkout of the commit, with no release state. */
async function checkout(): Promise<string> {
  const dir = join(work, `runner-${++machines}`);
  await cp(origin.dir, dir, { recursive: true });
  return dir;
}

/** actions/upload-artifact of `path` under `name`. */
async function upload(from: string, name: string): Promise<string> {
  const to = join(work, 'artifacts', name);
  await cp(from, to, { recursive: true });
  return to;
}

/** actions/download-artifact of every artifact into one directory (merge-multiple). */
async function download(artifacts: string[], into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (const a of artifacts) await cp(a, into, { recursive: true, force: false, errorOnExist: true });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** What GitHub Actions sets in every job of the release workflow (the attest job, a reusable workflow, sees its caller's ref). */
function actionsEnv(commit: string): NodeJS.ProcessEnv {
  return releaseEnv({
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'wellmaintained/packages',
    GITHUB_WORKFLOW_REF: 'wellmaintained/packages/.github/workflows/release.yml@refs/heads/main',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: commit,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    RUNNER_ENVIRONMENT: 'github-hosted',
  });
}

describe('the release split into CI jobs', () => {
  const reg = () => `${registry.url}/ci`;

  it('plan -> image per matrix entry -> attest-all -> collect releases every image, verified, at SLSA Build L3', async () => {
    // plan: the version and the matrix, nothing built or pushed.
    const planner = await checkout();
    const commit = (await run('git', ['rev-parse', 'HEAD'], { cwd: planner })).stdout.trim();
    const env = actionsEnv(commit);
    const planned = await runCliProcess(['release', 'plan', '--collection', 'example', '--registry', reg(), '--json'], { cwd: planner, env });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as { version: string; commit: string; matrix: { include: { image: string }[] } };
    const version = plan.version;
    expect(version).toMatch(/^example-v[\w.]+-\d{8}\.1$/);
    expect(plan.matrix.include.map((m) => m.image)).toEqual(IMAGES);
    expect(existsSync(join(planner, '.release'))).toBe(false);
    expect(await registry.catalog()).toEqual([]);

    // build: one job per image, in parallel, each on its own runner; each uploads .release/<version>/.
    const stateArtifacts = await Promise.all(
      plan.matrix.include.map(async ({ image }) => {
        const runner = await checkout();
        const r = await runCliProcess(['release', 'image', image, '--collection', 'example', '--registry', reg(), '--version', version], { cwd: runner, env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`${image}: ${reg()}/${image}@sha256:`);
        // A job's state holds its own image only, so merging the artifacts loses nothing.
        expect(await filesUnder(join(runner, '.release', version))).toEqual([`images/${image}.json`, `sbom/${image}.cdx.json`]);
        return upload(join(runner, '.release', version), `state-${image}`);
      }),
    );

    // attest: the isolated job, without Nix; keyless with the id-token of the reusable workflow.
    const attester = await checkout();
    await download(stateArtifacts, join(attester, '.release', version));
    const attested = await runCliProcess(
      ['release', 'attest-all', '--collection', 'example', '--registry', reg(), '--version', version, '--signer', 'keyless',
        '--fulcio-url', stack.fulcioUrl, '--rekor-url', stack.rekorUrl, '--tsa-url', stack.tsaUrl, '--trusted-root', stack.trustedRootPath, '--json'],
      { cwd: attester, env: { ...env, PATH: pathWithoutNix, ACTIONS_ID_TOKEN_REQUEST_URL: stack.actionsTokenRequest.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: stack.actionsTokenRequest.token } },
    );
    expect(attested.code, attested.stderr).toBe(0);
    const attestations = JSON.parse(attested.stdout) as { name: string; verification: { ok: boolean } }[];
    expect(attestations.map((a) => [a.name, a.verification.ok])).toEqual(IMAGES.map((n) => [n, true]));
    // A fresh token for every certificate: one found up front, then one per signature (three per image).
    expect(stack.actionsTokensIssued()).toBe(1 + IMAGES.length * 3);
    const attestedState = await upload(join(attester, '.release', version), 'attested-state');

    // collect, without Nix: release.json, the page, the collection tags.
    const collector = await checkout();
    await download([attestedState], join(collector, '.release', version));
    const collected = await runCliProcess(
      ['release', 'collect', '--collection', 'example', '--registry', reg(), '--version', version, '--out', `site/${version}`, '--json'],
      { cwd: collector, env: { ...env, PATH: pathWithoutNix } },
    );
    expect(collected.code, collected.stderr).toBe(0);
    const result = JSON.parse(collected.stdout) as { version: string; manifest: string; page: string; slsa: { level: number } };
    expect(result.version).toBe(version);
    expect(result.page).toBe(join(collector, 'site', version));
    expect(existsSync(join(result.page, 'index.html'))).toBe(true);

    const manifest = await readManifest(result.manifest);
    expect(manifest.version).toBe(version);
    expect(manifest.source.commit).toBe(plan.commit);
    expect(manifest.images.map((i) => i.name)).toEqual(IMAGES);
    expect(manifest.signer).toMatchObject({ mode: 'keyless', identity: DEFAULT_WORKFLOW_IDENTITY, issuer: stack.issuerUrl });
    // Signed by attest.yml, built by release.yml's jobs, which hold no id-token.
    expect(manifest.slsa.level).toBe(3);
    const html = await readFile(join(result.page, 'index.html'), 'utf8');
    for (const image of manifest.images) {
      expect(image.verification?.ok).toBe(true);
      expect(image.tags).toContain(version);
      expect((await resolveImage(`${reg()}/${image.name}:${version}`)).digest).toBe(image.digest);
      expect(html).toContain(image.digest!);
    }

    releasedDigests = manifest.images.map((i) => i.digest!);

    // Provenance made on the attest runner describes the example flake's inputs (none), not the root flake's,
    // although the image was built in another checkout directory.
    const rootLock = JSON.parse(await readFile(join(collector, 'flake.lock'), 'utf8')) as { nodes: Record<string, { locked?: { rev?: string } }> };
    const revs = Object.values(rootLock.nodes).flatMap((n) => (n.locked?.rev ? [n.locked.rev] : []));
    expect(revs.length).toBeGreaterThan(0);
    for (const image of manifest.images) {
      const provenance = await readFile(join(collector, '.release', version, image.provenance!.path), 'utf8');
      for (const rev of revs) expect(provenance).not.toContain(rev);
      // builder.id names the signing workflow (the certificate's identity), not the caller in GITHUB_WORKFLOW_REF.
      expect(JSON.parse(provenance).predicate.runDetails.builder.id).toBe(DEFAULT_WORKFLOW_IDENTITY);
    }
    expect(manifest.builder).toMatchObject({ id: DEFAULT_WORKFLOW_IDENTITY, workflow: '.github/workflows/release.yml' });

    // An auditor verifies the whole release from its manifest.
    const verified = await runCliProcess(
      ['verify', '--manifest', result.manifest, '--certificate-identity', DEFAULT_WORKFLOW_IDENTITY, '--certificate-oidc-issuer', stack.issuerUrl, '--trusted-root', stack.trustedRootPath],
      { cwd: collector, env: releaseEnv() },
    );
    expect(verified.code, verified.stderr).toBe(0);
  }, 180_000);

  it('collect refuses a state where an image never went through attest-all, and publishes nothing', async () => {
    const runner = await checkout();
    const planned = await runCliProcess(['release', 'plan', '--collection', 'example', '--registry', `${registry.url}/partial`, '--json'], { cwd: runner, env: releaseEnv() });
    const { version } = JSON.parse(planned.stdout) as { version: string };
    const built = await runCliProcess(['release', 'image', 'hello', '--collection', 'example', '--registry', `${registry.url}/partial`, '--version', version], { cwd: runner, env: releaseEnv() });
    expect(built.code, built.stderr).toBe(0);

    const missing = await runCliProcess(['release', 'attest-all', '--collection', 'example', '--registry', `${registry.url}/partial`, '--version', version, '--signer', 'key'], { cwd: runner, env: releaseEnv() });
    expect(missing.code).toBe(EXIT_CODES.NOT_FOUND);
    expect(missing.stderr).toMatch(/no build records in .* for: greeter, toolbox/);

    const collect = await runCliProcess(['release', 'collect', '--collection', 'example', '--registry', `${registry.url}/partial`, '--version', version, '--images', 'hello'], { cwd: runner, env: releaseEnv() });
    expect(collect.code).toBe(EXIT_CODES.VERIFICATION_FAILED);
    expect(collect.stderr).toMatch(/not every image verified: hello; nothing published/);
    expect(existsSync(join(runner, 'site'))).toBe(false);
    expect(existsSync(join(runner, '.release', version, 'release.json'))).toBe(false);
    const record = JSON.parse(await readFile(join(runner, '.release', version, 'images', 'hello.json'), 'utf8')) as ImageRecord;
    expect(record.tags).not.toContain(version);
  });

  it.concurrent.each([
    [['image'], EXIT_CODES.USAGE, /give exactly one image name/],
    [['image', 'hello'], EXIT_CODES.USAGE, /--version is required/],
    [['image', 'nope', '--version', 'example-v1-20260101.1'], EXIT_CODES.NOT_FOUND, /unknown image "nope"/],
    [['image', 'hello', '--version', '../../elsewhere'], EXIT_CODES.INVALID_INPUT, /invalid --version "\.\.\/\.\.\/elsewhere"/],
    [['attest-all'], EXIT_CODES.USAGE, /--version is required/],
    [['attest-all', '--version', 'example-v1-20260101.1', '--registry', 'ci'], EXIT_CODES.INVALID_INPUT, /invalid --registry "ci"/],
    [['collect', '--version', 'a version'], EXIT_CODES.INVALID_INPUT, /invalid --version "a version"/],
    [['plan', '--collection', 'nope'], EXIT_CODES.NOT_FOUND, /unknown collection "nope"/],
  ])('release %j exits %i, naming the input, and writes nothing', async (args, code, message) => {
    const runner = await checkout();
    const r = await runCliProcess(['release', ...args], { cwd: runner, env: releaseEnv() });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(runner, '.release'))).toBe(false);
    expect(existsSync(join(runner, 'site'))).toBe(false);
  });

  it('--dry-run prints every digest, and pushes, signs and writes nothing', async () => {
    const runner = await checkout();
    const before = { ...stack.requests };
    const r = await runCliProcess(
      ['release', '--collection', 'example', '--registry', `${registry.url}/dry`, '--dry-run', '--json', '--signer', 'keyless',
        '--fulcio-url', stack.fulcioUrl, '--rekor-url', stack.rekorUrl, '--tsa-url', stack.tsaUrl, '--trusted-root', stack.trustedRootPath,
        '--identity-token', await stack.mintToken()],
      { cwd: runner, env: releaseEnv() },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dryRun: boolean; version: string; images: { name: string; repository: string; digest: string }[] };
    expect(out.dryRun).toBe(true);
    expect(out.images.map((i) => i.name)).toEqual(IMAGES);
    for (const i of out.images) {
      expect(i.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(i.repository).toBe(`${registry.url}/dry/${i.name}`);
    }
    expect((await registry.catalog()).filter((repo) => repo.startsWith('dry/'))).toEqual([]);
    expect(stack.requests).toEqual(before);
    expect(existsSync(join(runner, '.release'))).toBe(false);
    expect(existsSync(join(runner, 'site'))).toBe(false);

    // The same Nix outputs give the digests a real release publishes.
    expect(releasedDigests, 'the distributed release ran first').toBeDefined();
    expect(out.images.map((i) => i.digest)).toEqual(releasedDigests);

    const text = await runCliProcess(['release', '--collection', 'example', '--registry', `${registry.url}/dry`, '--dry-run'], { cwd: runner, env: releaseEnv() });
    expect(text.code, text.stderr).toBe(0);
    for (const i of out.images) expect(text.stdout).toContain(`${i.repository}@${i.digest}`);
  });
});
