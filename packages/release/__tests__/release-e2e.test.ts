import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRepo } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

const run = promisify(execFile);

describe('pnpm release, keyless, to a real registry', () => {
  let registry: RegistryHandle;
  let stack: SigstoreStack;
  let repo: { dir: string; cleanup: () => Promise<void> };
  let token: string;
  let tokenFile: string;

  beforeAll(async () => {
    [registry, stack, repo] = await Promise.all([startRegistry(), startSigstoreStack(), scratchRepo({ git: true })]);
    token = await stack.mintToken();
    tokenFile = join(repo.dir, '..', `${Date.now()}-oidc-token`);
    await writeFile(tokenFile, token);
  });
  afterAll(async () => {
    await Promise.all([registry?.stop(), stack?.stop(), repo?.cleanup()]);
  });

  const keyless = () => [
    '--signer', 'keyless',
    '--fulcio-url', stack.fulcioUrl,
    '--rekor-url', stack.rekorUrl,
    '--tsa-url', stack.tsaUrl,
    '--trusted-root', stack.trustedRootPath,
    '--identity-token-file', tokenFile,
  ];

  it('releases the example collection, and the manifest verifies', async () => {
    const r = await runCliProcess(['release', '--collection', 'example', '--registry', `${registry.url}/example`, ...keyless(), '--json'], {
      cwd: repo.dir,
      env: releaseEnv(),
    });
    expect(r.stderr + r.stdout).not.toContain(token);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { version: string; manifest: string; page: string };
    const manifest = await readManifest(result.manifest);
    expect(manifest.images.map((i) => i.name)).toEqual(['greeter', 'hello', 'toolbox']);
    expect(manifest.signer.mode).toBe('keyless');
    expect(manifest.signer.issuer).toBe(stack.issuerUrl);
    // Signed keylessly but not on a hosted CI platform: the evidence supports L1.
    expect(manifest.slsa.level).toBe(1);
    for (const image of manifest.images) {
      expect(image.verification?.ok).toBe(true);
      expect(image.attestations.map((a) => a.predicateType).sort()).toEqual([
        'https://cyclonedx.org/bom',
        'https://sigstore.dev/cosign/sign/v1',
        'https://slsa.dev/provenance/v1',
      ]);
      expect(image.attestations.every((a) => a.rekorLogIndex !== undefined)).toBe(true);
      // The registry serves the digest, under the component tag and the collection tag.
      for (const tag of image.tags) {
        const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.url}/example/${image.name}:${tag}`]);
        expect(`sha256:${(await import('node:crypto')).createHash('sha256').update(stdout).digest('hex')}`).toBe(image.digest);
      }
      expect(image.tags).toContain(result.version);
    }
    expect(existsSync(join(result.page, 'index.html'))).toBe(true);
    const html = await readFile(join(result.page, 'index.html'), 'utf8');
    for (const image of manifest.images) expect(html).toContain(image.digest!);

    const identity = manifest.signer.identity!;
    const v = await runCliProcess(
      ['verify', '--manifest', result.manifest, '--certificate-identity', identity, '--certificate-oidc-issuer', stack.issuerUrl, '--trusted-root', stack.trustedRootPath],
      { cwd: repo.dir, env: releaseEnv() },
    );
    expect(v.code, v.stderr).toBe(0);
    // And straight from the registry, as an auditor would, with the identity pinned.
    const one = manifest.images[0]!;
    const v2 = await runCliProcess(
      ['verify', `${registry.url}/example/${one.name}@${one.digest}`, '--type', 'slsaprovenance1', '--certificate-identity', identity, '--certificate-oidc-issuer', stack.issuerUrl, '--trusted-root', stack.trustedRootPath],
      { cwd: repo.dir, env: releaseEnv() },
    );
    expect(v2.code, v2.stderr).toBe(0);
  });

  it('a second release with no change uploads nothing and signs nothing new', async () => {
    const before = stack.requests.fulcio;
    const r = await runCliProcess(['release', '--collection', 'example', '--registry', `${registry.url}/example`, ...keyless(), '--json'], {
      cwd: repo.dir,
      env: releaseEnv(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(stack.requests.fulcio).toBe(before);
    const manifest = await readManifest((JSON.parse(r.stdout) as { manifest: string }).manifest);
    expect(manifest.images.every((i) => i.verification?.ok)).toBe(true);
  });
});

describe('pnpm release with the embedded defaults', () => {
  let repo: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    repo = await scratchRepo({ git: true });
  });
  afterAll(async () => repo?.cleanup());

  it('releases to the OCI layout with the local key, labelled as not keyless', async () => {
    const r = await runCliProcess(['release', '--collection', 'example'], { cwd: repo.dir, env: releaseEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/NOT keyless/);
    const page = /page: (\S+)/.exec(r.stdout)?.[1];
    expect(page && existsSync(join(repo.dir, page))).toBe(true);
    const manifestPath = join(repo.dir, /manifest: (\S+)/.exec(r.stdout)![1]!);
    const manifest = await readManifest(manifestPath);
    expect(manifest.registry).toBe(`oci:${join(repo.dir, '.release', 'oci')}`);
    expect(manifest.signer.mode).toBe('key');
    expect(manifest.signer.publicKeyPath).toBe('keys/release.pub');
    expect(manifest.slsa.level).toBe(1);
    expect(manifest.slsa.reasons.join(' ')).toMatch(/local key/);
    const v = await runCliProcess(['verify', '--manifest', manifestPath, '--key', join(repo.dir, '.release', 'keys', 'signing-key.pub')], { cwd: repo.dir, env: releaseEnv() });
    expect(v.code, v.stderr).toBe(0);
  });

  it('a new image is released and shown with no other edit', async () => {
    const n = await runCliProcess(['new-image', 'x', '--collection', 'example'], { cwd: repo.dir, env: releaseEnv() });
    expect(n.code, n.stderr).toBe(0);
    const r = await runCliProcess(['release', '--collection', 'example', '--json'], { cwd: repo.dir, env: releaseEnv() });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { manifest: string; page: string };
    const manifest = await readManifest(result.manifest);
    expect(manifest.images.map((i) => i.name)).toContain('x');
    const x = manifest.images.find((i) => i.name === 'x')!;
    const html = await readFile(join(result.page, 'index.html'), 'utf8');
    expect(html).toContain(x.digest!);
  });
});
