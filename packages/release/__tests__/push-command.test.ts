import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXIT_CODES } from '@nixrel/core';
import { writeDockerArchive } from '@nixrel/testkit/archives';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './image-test-helpers.js';

/**
 * `pnpm release push <artifact> <target>` through the real command line: an
 * archive shaped like dockerTools' output goes to a loopback docker-registry
 * and to an OCI layout; bad inputs fail with their exit code, a message naming
 * the input, and nothing written.
 */

const exec = promisify(execFile);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const layers = [{ size: 1_500_000 }, { size: 300_000 }, { size: 2_000_000 }];

let dir: string;
let reg: RegistryHandle;
let env: NodeJS.ProcessEnv;
let diffIds: string[];
let layerSizes: number[];

const push = (...args: string[]) => runCli(['release', 'push', ...args], { cwd: dir, env });

async function listFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { recursive: true })).map(String).sort();
  } catch {
    return [];
  }
}

async function registryDigest(ref: string): Promise<string> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer' });
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

beforeAll(async () => {
  // A scratch "repository": the CLI needs a pnpm-workspace.yaml above its working directory.
  dir = await mkdtemp(join(tmpdir(), 'nixrel-push-cli-'));
  await writeFile(join(dir, 'pnpm-workspace.yaml'), 'packages: []\n');
  env = { ...process.env, NIXREL_OCI_CACHE: join(dir, 'image-cache') };
  ({ diffIds, layerSizes } = await writeDockerArchive(join(dir, 'img.tar'), { layers, seed: 'push-command' }));
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pnpm release push', () => {
  it('pushes an archive to a registry, prints what it pushed, and uploads nothing the second time', async () => {
    const first = await push('img.tar', `${reg.url}/cli/app:v1`, '--tag', 'latest');
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const digest = /@(sha256:[a-f0-9]{64})/.exec(first.stdout)?.[1];
    expect(digest).toBeDefined();
    expect(first.stdout).toContain(`${reg.url}/cli/app@${digest}`);
    expect(first.stdout).toMatch(new RegExp(`media type: +${OCI_MANIFEST.replaceAll('.', '\\.').replaceAll('+', '\\+')}`));
    const total = layerSizes.reduce((a, b) => a + b, 0);
    expect(first.stdout).toMatch(new RegExp(`layers: +3 \\(uncompressed, ${total} bytes\\)`));
    for (const [i, d] of diffIds.entries()) expect(first.stdout).toContain(`  ${d}  ${layerSizes[i]}`);
    expect(first.stdout).toMatch(/tags: +v1, latest/);
    const uploaded = Number(/bytes uploaded: +(\d+)/.exec(first.stdout)?.[1]);
    expect(uploaded).toBeGreaterThan(total);
    expect(first.stdout).toMatch(/blobs skipped: +0\n/);
    // The registry serves exactly that manifest, under both tags.
    expect(await registryDigest(`${reg.url}/cli/app:v1`)).toBe(digest);
    expect(await registryDigest(`${reg.url}/cli/app:latest`)).toBe(digest);

    const again = await push('img.tar', `${reg.url}/cli/app:v1`, '--json');
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      repository: `${reg.url}/cli/app`,
      digest,
      mediaType: OCI_MANIFEST,
      layerEncoding: 'uncompressed',
      tags: ['v1'],
      bytesUploaded: 0,
      blobsSkipped: 4,
    });
    expect((json.layers as { digest: string; size: number }[]).map((l) => [l.digest, l.size])).toEqual(diffIds.map((d, i) => [d, layerSizes[i]]));
  });

  it('pushes to an OCI layout given relative to where it runs; the layout validates', async () => {
    const first = await push('img.tar', 'oci:out/layout:v1', '--json');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { repository: string; digest: string; bytesUploaded: number; blobsSkipped: number };
    expect(result.repository).toBe(`oci:${join(dir, 'out', 'layout')}`);
    expect(result.bytesUploaded).toBeGreaterThan(0);
    const { stdout } = await exec('oci-image-tool', ['validate', '--type', 'image', join(dir, 'out', 'layout'), '--ref', 'name=v1']);
    expect(stdout).toMatch(/Validation succeeded/);
    const index = JSON.parse(await readFile(join(dir, 'out', 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([result.digest]);

    const again = await push('img.tar', 'oci:out/layout:v1');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`oci:${join(dir, 'out', 'layout')}@${result.digest}`);
    expect(again.stdout).toMatch(/bytes uploaded: +0\n/);
    expect(again.stdout).toMatch(/blobs skipped: +4\n/);
  });

  describe('bad inputs: exit code, a message naming the input, nothing written', () => {
    let before: { catalog: string[]; files: string[] };
    beforeAll(async () => {
      await writeDockerArchive(join(dir, 'tampered.tar'), { layers, seed: 'push-command', corruptLayer: 1 });
      await writeFile(join(dir, 'notes.tar'), 'not an image archive\n');
      before = { catalog: await reg.catalog(), files: await listFiles(reg.storageDir) };
    });

    it.each([
      ['a missing file', ['missing.tar', 'REG/bad/app:v1'], 'NOT_FOUND', 'missing.tar'],
      ['a file that is no archive', ['notes.tar', 'REG/bad/app:v1'], 'ARCHIVE_ERROR', 'notes.tar'],
      ['a layer that does not match its diff_id', ['tampered.tar', 'REG/bad/app:v1'], 'DIGEST_MISMATCH', 'tampered.tar'],
      ['an invalid reference', ['img.tar', 'REG/Bad/App:v1'], 'INVALID_INPUT', 'Bad/App'],
      ['an invalid tag', ['img.tar', 'REG/bad/app', '--tag', 'no tags with spaces'], 'INVALID_INPUT', 'no tags with spaces'],
      ['a missing target', ['img.tar'], 'USAGE', 'expected <artifact> and <target>'],
      ['an unknown flag', ['img.tar', 'REG/bad/app:v1', '--force'], 'USAGE', '--force'],
    ] as const)('%s', async (_what, args, code, named) => {
      const r = await push(...args.map((a) => a.replace('REG', reg.url)));
      expect(r.code).toBe(EXIT_CODES[code]);
      expect(r.stderr).toMatch(/^error: /m);
      expect(r.stderr).toContain(named);
      expect(r.stdout).toBe('');
      expect(await reg.catalog()).toEqual(before.catalog);
      expect(await listFiles(reg.storageDir)).toEqual(before.files);
    });

    it('writes no OCI layout for a bad archive', async () => {
      const r = await push('tampered.tar', 'oci:never/layout:v1');
      expect(r.code).toBe(EXIT_CODES.DIGEST_MISMATCH);
      expect(r.stderr).toContain(join(dir, 'tampered.tar'));
      expect(await listFiles(join(dir, 'never'))).toEqual([]);
    });

    it('fails with NETWORK_ERROR naming the registry when it cannot be reached', async () => {
      const r = await push('img.tar', '127.0.0.1:1/nowhere/app:v1');
      expect(r.code).toBe(EXIT_CODES.NETWORK_ERROR);
      expect(r.stderr).toContain('127.0.0.1:1');
      expect(r.stderr).toMatch(/ECONNREFUSED/);
      expect(r.stdout).toBe('');
    });
  });
});
