import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReleaseManifest, sha256Digest } from '@nixrel/core';
import { listTags, resolveImage } from '@nixrel/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRepo } from './image-test-helpers.js';
import { comparable, pageExists, type Run, readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

/**
 * A release SIGKILLed anywhere leaves nothing published (no collection tag, no
 * page) until its last step, and the run after it resumes to the same
 * release.json as a run that was never interrupted.
 *
 * The reference and the interrupted release run from the same directory (the
 * reference repository is moved aside first): the SBOMs and provenance name
 * the repository's path, so only then are their digests comparable, and only
 * times and signature bytes may differ.
 */

const IMAGES = ['greeter', 'hello', 'toolbox'];

/** Where each run is killed: the first stderr line matching `on`, plus a delay (ms, or random up to `upTo`). */
interface KillPoint {
  label: string;
  on: RegExp;
  upTo?: number;
}

// In pipeline order, each point still ahead of what the earlier kills let
// finish: two images at a time, so toolbox starts only once greeter or hello is
// done, and every run re-verifies every image, so a `verify` line always comes.
const KILL_POINTS: KillPoint[] = [
  { label: 'during the build', on: /: build$/m },
  { label: 'during publish', on: /: publish$/m },
  { label: 'during sbom', on: /: sbom$/m },
  { label: 'during sbom, after a random delay', on: /: sbom$/m, upTo: 150 },
  { label: 'during provenance', on: /: provenance$/m },
  { label: 'during attest', on: /: attest$/m },
  { label: 'during verify', on: /: verify$/m },
  { label: 'at the first stage of the last image', on: /toolbox: (publish|sbom|provenance|attest|verify)$/m },
  { label: 'in the last image, after a random delay', on: /toolbox: (publish|sbom|provenance|attest|verify)$/m, upTo: 100 },
  { label: 'while writing release.json', on: /writing release\.json$/m },
  { label: 'while writing release.json, after a random delay', on: /writing release\.json$/m, upTo: 150 },
  { label: 'while rendering the page, after a random delay', on: /rendering the provenance page$/m, upTo: 400 },
  { label: 'while tagging', on: /tagging every image /m },
];

/**
 * The provenance statement carries the build's start and end times, so its
 * digest, and the input hashes of the stages that follow from it, differ
 * between two runs as the times do; the statements themselves are compared.
 */
function withoutBuildTimes(manifest: unknown): unknown {
  const m = structuredClone(manifest) as { images: { provenance?: { digest?: string }; stages: Record<string, { inputHash?: string }> }[] };
  for (const image of m.images) {
    delete image.provenance?.digest;
    for (const stage of ['provenance', 'attest', 'verify']) delete image.stages[stage]?.inputHash;
  }
  return m;
}

describe('a release killed at any point', () => {
  let base: string;
  let repo: string;
  let referenceRepo: string;
  let key: string;
  let reference: ReleaseManifest;
  let version: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  const release = (cwd: string, killOn?: RegExp, killDelayMs?: number): Promise<Run> =>
    runCliProcess(['release', '--collection', 'example', '--key', key], { cwd, env: releaseEnv(), ...(killOn ? { killOn, killDelayMs } : {}) });

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'nixrel-kill-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    // One key for every run, so signatures differ only in their bytes.
    key = join(base, 'release-key.pem');
    await writeFile(key, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });

    const scratch = await scratchRepo({ git: true });
    cleanups.push(scratch.cleanup);
    repo = scratch.dir;
    referenceRepo = `${repo}-reference`;
    const interrupted = `${repo}-interrupted`;
    cleanups.push(() => rm(referenceRepo, { recursive: true, force: true }), () => rm(interrupted, { recursive: true, force: true }));
    // The same commit in both: a copy of the committed repository.
    await cp(repo, interrupted, { recursive: true });

    const r = await release(repo);
    expect(r.code, r.stderr).toBe(0);
    const manifestPath = join(repo, /manifest: (\S+)/.exec(r.stdout)![1]!);
    reference = await readManifest(manifestPath);
    version = reference.version;
    await rename(repo, referenceRepo);
    await rename(interrupted, repo);
  });

  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  const collectionTags = async (): Promise<string[]> => {
    const found: string[] = [];
    for (const name of IMAGES) {
      for (const tag of await listTags(`oci:${join(repo, '.release', 'oci', name)}`)) if (tag.startsWith('example-v')) found.push(`${name}:${tag}`);
    }
    return found;
  };

  it('publishes nothing before the last step, then resumes to the uninterrupted release', async () => {
    let tagged = false;
    for (const point of KILL_POINTS) {
      const delay = point.upTo ? Math.floor(Math.random() * point.upTo) : 0;
      const what = `killed ${point.label} (${delay} ms after the match)`;
      const r = await release(repo, point.on, delay);
      const reachedTagging = /tagging every image /.test(r.stderr);
      if (!reachedTagging) expect(r.signal, `${what}: the run ended by itself\n${r.stderr}`).toBe('SIGKILL');

      // Whatever the kill interrupted, the state left behind is readable.
      const stateDir = join(repo, '.release', version);
      if (existsSync(join(stateDir, 'images'))) {
        for (const f of (await readdir(join(stateDir, 'images'))).filter((n) => n.endsWith('.json'))) {
          JSON.parse(await readFile(join(stateDir, 'images', f), 'utf8'));
        }
      }

      const tags = await collectionTags();
      if (reachedTagging) {
        tagged = true;
        // A collection tag, where one was added, points at the released digest.
        for (const t of tags) {
          const [name, tag] = t.split(':') as [string, string];
          expect(tag, what).toBe(version);
          const image = reference.images.find((i) => i.name === name)!;
          expect((await resolveImage(`oci:${join(repo, '.release', 'oci', name)}:${tag}`)).digest, what).toBe(image.digest);
        }
      } else {
        expect(tags, what).toEqual([]);
        expect(pageExists(repo, version), `${what}: site/${version} exists`).toBe(false);
      }
    }
    expect(tagged, 'no run reached the tagging step').toBe(true);

    const r = await release(repo);
    expect(r.code, r.stderr).toBe(0);
    const manifestPath = join(repo, /manifest: (\S+)/.exec(r.stdout)![1]!);
    const resumed = await readManifest(manifestPath);
    expect(resumed.version).toBe(version);
    expect(withoutBuildTimes(comparable(resumed))).toEqual(withoutBuildTimes(comparable(reference)));
    // The provenance of each image says the same, times aside, and its digest is that of the file.
    for (const image of resumed.images) {
      const text = await readFile(join(repo, '.release', version, image.provenance!.path), 'utf8');
      expect(image.provenance!.digest).toBe(sha256Digest(text));
      const referenceText = await readFile(join(referenceRepo, '.release', version, image.provenance!.path), 'utf8');
      expect(comparable(JSON.parse(text))).toEqual(comparable(JSON.parse(referenceText)));
    }

    expect(pageExists(repo, version)).toBe(true);
    expect((await collectionTags()).sort()).toEqual(IMAGES.map((n) => `${n}:${version}`));
    expect(existsSync(join(repo, '.release', version, 'page.partial'))).toBe(false);
    const v = await runCliProcess(['verify', '--manifest', manifestPath], { cwd: repo, env: releaseEnv() });
    expect(v.code, v.stderr).toBe(0);
    // Thirteen killed releases and one whole one: on a loaded 2-core machine this takes over a minute.
  }, 300_000);

  it('the same release resumed to another registry is signed there too, not only published', async () => {
    const elsewhere = `oci:${join(base, 'elsewhere')}`;
    const r = await runCliProcess(['release', '--collection', 'example', '--key', key, '--registry', elsewhere], { cwd: repo, env: releaseEnv() });
    expect(r.code, r.stderr).toBe(0);
    for (const stage of ['sbom', 'provenance', 'attest']) expect(r.stderr).toMatch(new RegExp(`: ${stage}$`, 'm'));
    const manifestPath = join(repo, /manifest: (\S+)/.exec(r.stdout)![1]!);
    const manifest = await readManifest(manifestPath);
    expect(manifest.version).toBe(version);
    expect(manifest.registry).toBe(elsewhere);
    for (const image of manifest.images) expect(await listTags(`${elsewhere}/${image.name}`)).toContain(version);
    const v = await runCliProcess(['verify', '--manifest', manifestPath], { cwd: repo, env: releaseEnv() });
    expect(v.code, v.stderr).toBe(0);
  });
});
