/**
 * A real release of the example collection (Nix, docker-registry, the local
 * Sigstore stack; and a key-signed one to an OCI layout), then forgeries of it
 * as an attacker who can replace the release directory would make them. Each
 * must fail with its own check naming the file; the unmodified release passes
 * from the manifest, the registry and the audit pack.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeylessSigner, createKeySigner, findIdentityToken, loadOrCreateSigningKey, type Signer } from '@nixrel/attest';
import { createLogger, isReleaseError, type ReleaseManifest, type VerificationReport } from '@nixrel/core';
import { type RegistryHandle, startRegistry } from '@nixrel/testkit/registry';
import { type SigstoreStack, startSigstoreStack } from '@nixrel/testkit/sigstore-stack';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { verifyKeylessIndependently, verifyKeySignedIndependently } from '../../attest/__tests__/support/independent-verifier.js';
import { buildPack, PACK, PACK_LIMITS, readPack, tarGz } from '../src/audit-pack.js';
import type { CliContext } from '../src/cli-context.js';
import { run as pack } from '../src/commands/pack.js';
import { run as page } from '../src/commands/page.js';
import { run as verify } from '../src/commands/verify.js';
import { scratchRepo, repoRoot as sourceRoot } from './image-test-helpers.js';
import { readManifest, releaseEnv, runCliProcess } from './release-helpers.js';

let registry: RegistryHandle;
let stack: SigstoreStack;
let repos: { dir: string; cleanup: () => Promise<void> }[] = [];
let work: string;
let keyless: { manifestPath: string; manifest: ReleaseManifest; repo: string };
let keyed: { manifestPath: string; manifest: ReleaseManifest; repo: string; publicKey: string };

const keylessPolicy = () => ['--certificate-identity', keyless.manifest.signer.identity!, '--certificate-oidc-issuer', stack.issuerUrl, '--trusted-root', stack.trustedRootPath];
const keyPolicy = () => ['--key', keyed.publicKey];

function context(repo = work) {
  const out: string[] = [];
  const ctx: CliContext = { repoRoot: repo, out: (t) => out.push(t), logger: createLogger({ write: () => {} }), env: { INIT_CWD: repo } };
  return { ctx, out };
}

/** Runs `pnpm verify ... --json` in-process: the report, and the error when it failed. */
async function verifyReport(args: string[]): Promise<{ report: VerificationReport; error?: unknown }> {
  const { ctx, out } = context();
  const error = await verify([...args, '--json'], ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { report: JSON.parse(out.join('\n')) as VerificationReport, ...(error ? { error } : {}) };
}

type Failed = { image?: string; id: string; detail: RegExp };

/** The verification fails, exactly the listed checks fail, each with its message. */
async function expectForgery(args: string[], failed: Failed[]): Promise<VerificationReport> {
  const { report, error } = await verifyReport(args);
  expect(isReleaseError(error, 'VERIFICATION_FAILED'), String(error)).toBe(true);
  expect(report.ok).toBe(false);
  const actual = [
    ...report.release.filter((c) => c.status === 'failed').map((c) => ({ image: undefined, id: c.id, detail: c.detail ?? '' })),
    ...report.images.flatMap((i) => i.checks.filter((c) => c.status === 'failed').map((c) => ({ image: i.name, id: c.id, detail: c.detail ?? '' }))),
  ];
  expect(actual.map((a) => `${a.image ?? 'release'}:${a.id}`).sort()).toEqual(failed.map((f) => `${f.image ?? 'release'}:${f.id}`).sort());
  for (const f of failed) expect(actual.find((a) => a.image === f.image && a.id === f.id)!.detail).toMatch(f.detail);
  return report;
}

/** A copy of a release directory to forge. */
async function copyOf(manifestPath: string): Promise<{ dir: string; manifestPath: string; manifest: ReleaseManifest }> {
  const dir = await mkdtemp(join(work, 'forged-'));
  await cp(join(manifestPath, '..'), dir, { recursive: true });
  return { dir, manifestPath: join(dir, 'release.json'), manifest: await readManifest(join(dir, 'release.json')) };
}

const save = (path: string, manifest: ReleaseManifest) => writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
const digestOf = (data: string | Uint8Array) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const statementOf = async (path: string) => JSON.parse(Buffer.from(JSON.parse(await readFile(path, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));

/** Re-signs every statement of the release with `signer`, updating release.json as a careful forger would. */
async function resign(copy: Awaited<ReturnType<typeof copyOf>>, signer: Signer, update: (m: ReleaseManifest) => void): Promise<void> {
  for (const image of copy.manifest.images) {
    for (const a of image.attestations) {
      const path = join(copy.dir, a.bundlePath);
      const { bytes, bundle } = await signer.sign(await statementOf(path));
      await writeFile(path, bytes);
      a.bundleDigest = digestOf(bytes);
      const tlog = (bundle as { verificationMaterial: { tlogEntries?: { logIndex: string }[] } }).verificationMaterial.tlogEntries?.[0];
      if (tlog) a.rekorLogIndex = Number(tlog.logIndex);
      else delete a.rekorLogIndex;
    }
  }
  update(copy.manifest);
  await save(copy.manifestPath, copy.manifest);
}

/** A copy of the release whose hello SBOM lost a component, its digest updated in release.json as a careful forger would. */
async function withEditedSbom(manifestPath: string): Promise<Awaited<ReturnType<typeof copyOf>>> {
  const copy = await copyOf(manifestPath);
  const hello = copy.manifest.images.find((i) => i.name === 'hello')!;
  const bom = JSON.parse(await readFile(join(copy.dir, hello.sbom!.path), 'utf8'));
  bom.components = bom.components.slice(1);
  const text = JSON.stringify(bom, null, 2);
  await writeFile(join(copy.dir, hello.sbom!.path), text);
  hello.sbom!.digest = digestOf(text);
  await save(copy.manifestPath, copy.manifest);
  return copy;
}

async function release(dir: string, args: string[]): Promise<{ manifestPath: string; manifest: ReleaseManifest }> {
  const r = await runCliProcess(['release', '--collection', 'example', ...args, '--json'], { cwd: dir, env: releaseEnv() });
  expect(r.code, r.stderr).toBe(0);
  const manifestPath = (JSON.parse(r.stdout) as { manifest: string }).manifest;
  return { manifestPath, manifest: await readManifest(manifestPath) };
}

beforeAll(async () => {
  [registry, stack] = await Promise.all([startRegistry(), startSigstoreStack()]);
  work = await mkdtemp(join(tmpdir(), 'verify-release-'));
  repos = await Promise.all([scratchRepo({ git: true }), scratchRepo({ git: true })]);
  const tokenFile = join(work, 'oidc-token');
  await writeFile(tokenFile, await stack.mintToken());
  const signerFlags = ['--signer', 'keyless', '--fulcio-url', stack.fulcioUrl, '--rekor-url', stack.rekorUrl, '--tsa-url', stack.tsaUrl];
  keyless = {
    ...(await release(repos[0]!.dir, ['--registry', `${registry.url}/example`, ...signerFlags, '--trusted-root', stack.trustedRootPath, '--identity-token-file', tokenFile])),
    repo: repos[0]!.dir,
  };
  const k = await release(repos[1]!.dir, []);
  // The verifier's copy of the key, obtained apart from the release (here: from where it was made).
  const publicKey = join(work, 'trusted-release.pub');
  await cp(join(repos[1]!.dir, '.release', 'keys', 'signing-key.pub'), publicKey);
  keyed = { ...k, repo: repos[1]!.dir, publicKey };
}, 300_000);

afterAll(async () => {
  await Promise.all([registry?.stop(), stack?.stop(), ...repos.map((r) => r.cleanup())]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the unmodified release', () => {
  test('passes from the manifest with the right policy: every check of every image, blobs and referrers included', async () => {
    for (const [args, mode] of [
      [['--manifest', keyless.manifestPath, ...keylessPolicy()], 'keyless'],
      [['--manifest', keyed.manifestPath, ...keyPolicy()], 'key'],
    ] as const) {
      const { report, error } = await verifyReport([...args]);
      expect(error).toBeUndefined();
      expect(report.ok).toBe(true);
      expect(report.policy.mode).toBe(mode);
      expect(report.images.map((i) => i.name)).toEqual(['greeter', 'hello', 'toolbox']);
      for (const image of report.images) {
        expect(image.checks.map((c) => `${c.id}:${c.status}`)).toEqual(
          [
            'bundle-files',
            'signature',
            'provenance-attestation',
            'sbom-attestation',
            'attestation-records',
            'sbom-binding',
            'provenance-binding',
            'provenance-sbom',
            'release-claims',
            'blobs',
            'referrers',
          ].map((id) => `${id}:passed`),
        );
      }
    }
    expect((await verifyReport(['--manifest', keyless.manifestPath, ...keylessPolicy()])).report.policy).toEqual({
      mode: 'keyless',
      certificateIdentity: keyless.manifest.signer.identity,
      certificateOidcIssuer: stack.issuerUrl,
      trustedRoot: stack.trustedRootPath,
    });
  });

  test('a registry or layout out of reach: blobs and referrers are "not checked", with the reason, and nothing fails', async () => {
    const layout = keyed.manifest.registry.slice('oci:'.length);
    await rename(layout, `${layout}.away`);
    try {
      const { report, error } = await verifyReport(['--manifest', keyed.manifestPath, ...keyPolicy()]);
      expect(error).toBeUndefined();
      expect(report.ok).toBe(false);
      for (const image of report.images) {
        expect(image.checks.filter((c) => c.status !== 'passed')).toEqual([
          expect.objectContaining({ id: 'blobs', status: 'not-checked', detail: `the OCI layout ${layout}/${image.name} is not on this machine` }),
          expect.objectContaining({ id: 'referrers', status: 'not-checked' }),
        ]);
      }
    } finally {
      await rename(`${layout}.away`, layout);
    }
  });

  test('prints one line per check, grouped by image', async () => {
    const { ctx, out } = context();
    await verify(['--manifest', keyed.manifestPath, ...keyPolicy()], ctx);
    const text = out.join('\n');
    expect(text).toMatch(new RegExp(`^policy: key key ${keyed.manifest.signer.keyFingerprint}\nverified release.json\n {2}ok {4}release.json validates against its JSON Schema\n`));
    expect(text).toMatch(/\nverified hello@sha256:[0-9a-f]{64}\n {2}ok {4}Bundle files are present/);
    expect(text).toMatch(/ {2}ok {4}Manifest, config and every layer exist and hash to their digests {2}\(\d+ layers\)/);
  });

  test('passes from the registry, image by image, as cosign would check it', async () => {
    for (const image of keyless.manifest.images) {
      const { ctx, out } = context();
      await verify([`${image.repository}@${image.digest}`, ...keylessPolicy()], ctx);
      expect(out.join('\n')).toMatch(/^verified /);
    }
  });

  test('without a policy: a usage error (exit 2) that shows what the release claims, to pin after checking it', async () => {
    const a = await verify(['--manifest', keyless.manifestPath], context().ctx).catch((e: unknown) => e);
    expect(a).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((a as Error).message).toContain(
      `--certificate-identity ${keyless.manifest.signer.identity} --certificate-oidc-issuer ${stack.issuerUrl}`,
    );
    const b = await verify(['--manifest', keyed.manifestPath], context().ctx).catch((e: unknown) => e);
    expect(b).toMatchObject({ code: 'USAGE' });
    expect((b as Error).message).toContain(`signed with the key ${keyed.manifest.signer.keyFingerprint} (NOT keyless)`);
    expect((b as Error).message).toMatch(/not from beside the release/);
  });
});

describe('bad input', () => {
  test('each names what is wrong and exits with its code', async () => {
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => verify(['--manifest', keyed.manifestPath, '--pack', 'x.tar.gz', ...keyPolicy()], context().ctx), 'USAGE', /give --manifest or --pack, not both/],
      [() => verify(['--manifest', keyed.manifestPath, '--type', 'sign', ...keyPolicy()], context().ctx), 'USAGE', /drop --type/],
      [() => verify(['--manifest', join(work, 'absent.json'), ...keyPolicy()], context().ctx), 'NOT_FOUND', /absent\.json cannot be read/],
      [() => verify(['--manifest', keyed.manifestPath, '--key', keyed.publicKey, '--certificate-oidc-issuer', 'x'], context().ctx), 'USAGE', /--certificate-oidc-issuer apply to keyless bundles/],
      [() => verify(['--manifest', keyless.manifestPath, ...keylessPolicy().slice(0, 4)], context().ctx), 'USAGE', /the release claims it was logged to Rekor http:\/\/127\.0\.0\.1:\d+, not the public-good Sigstore instance: pass --trusted-root FILE/],
      [() => verify(['--pack', join(work, 'absent.tar.gz'), ...keyPolicy()], context().ctx), 'NOT_FOUND', /audit pack .*absent\.tar\.gz cannot be read/],
      [() => pack(['--manifest', join(work, 'absent.json')], context().ctx), 'NOT_FOUND', /release manifest not found: .*absent\.json/],
      [() => pack(['--bogus'], context().ctx), 'USAGE', /Unknown option '--bogus'/],
      [() => page(['--manifest', keyed.manifestPath, ...keyPolicy()], context().ctx), 'USAGE', /--out is required/],
    ];
    for (const [attempt, code, message] of cases) await expect(attempt()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});

describe('forged releases fail, each with its own message', () => {
  test('re-signed with another key (the public key beside the release replaced too)', async () => {
    const copy = await copyOf(keyed.manifestPath);
    const stranger = await loadOrCreateSigningKey(join(copy.dir, 'stranger'));
    await resign(copy, createKeySigner(stranger), (m) => {
      m.signer.keyFingerprint = stranger.fingerprint;
      for (const a of m.images.flatMap((i) => i.attestations)) a.keyFingerprint = stranger.fingerprint;
    });
    await cp(stranger.publicKeyPath!, join(copy.dir, 'keys', 'release.pub'));
    const bundleFail = (image: string, id: string) => ({ image, id, detail: /KEY_MISMATCH: bundle was signed with key sha256:[0-9a-f]{64}, expected sha256:/ });
    const failed: Failed[] = [{ id: 'signer-claims', detail: new RegExp(`release.json claims key ${stranger.fingerprint}; the policy trusts key ${keyed.manifest.signer.keyFingerprint}`) }];
    for (const image of ['greeter', 'hello', 'toolbox']) {
      failed.push(bundleFail(image, 'signature'), bundleFail(image, 'provenance-attestation'), bundleFail(image, 'sbom-attestation'));
      failed.push({ image, id: 'referrers', detail: /has no referrer holding bundles\// });
    }
    await expectForgery(['--manifest', copy.manifestPath, ...keyPolicy()], failed);
    // The forgery is complete: trusting the key beside the release would have passed every signature.
    const self = await verifyReport(['--manifest', copy.manifestPath, '--key', join(copy.dir, 'keys', 'release.pub')]);
    expect(self.report.images.flatMap((i) => i.checks.filter((c) => c.status === 'failed').map((c) => c.id))).toEqual(['referrers', 'referrers', 'referrers']);
  });

  test('re-signed keylessly with another identity', async () => {
    const copy = await copyOf(keyless.manifestPath);
    const evil = 'https://github.com/evil/fork/.github/workflows/attest.yml@refs/heads/main';
    const token = await findIdentityToken({ token: await stack.mintToken({ identity: evil }), env: {} });
    const signer = createKeylessSigner({ identityToken: token!, fulcioUrl: stack.fulcioUrl, rekorUrl: stack.rekorUrl, tsaUrl: stack.tsaUrl });
    await resign(copy, signer, (m) => {
      m.signer.identity = evil;
      for (const a of m.images.flatMap((i) => i.attestations)) a.signerIdentity = evil;
    });
    const failed: Failed[] = [{ id: 'signer-claims', detail: new RegExp(`release.json claims identity ${evil}; the policy requires ${keyless.manifest.signer.identity}`) }];
    for (const image of ['greeter', 'hello', 'toolbox']) {
      for (const id of ['signature', 'provenance-attestation', 'sbom-attestation']) failed.push({ image, id, detail: new RegExp(`IDENTITY_MISMATCH: certificate identity is "${evil}"`) });
      failed.push({ image, id: 'referrers', detail: /has no referrer holding/ });
    }
    await expectForgery(['--manifest', copy.manifestPath, ...keylessPolicy()], failed);
  });

  test('SBOM edited, its digest updated in release.json', async () => {
    const copy = await withEditedSbom(keyless.manifestPath);
    await expectForgery(
      ['--manifest', copy.manifestPath, ...keylessPolicy()],
      [
        { image: 'hello', id: 'sbom-binding', detail: /^SBOM file sbom\/hello\.cdx\.json differs from the SBOM in the signed attestation \(bundles\/hello\/sbom\.sigstore\.json\)$/ },
        { image: 'hello', id: 'provenance-sbom', detail: /^SBOM file sbom\/hello\.cdx\.json has digest sha256:[0-9a-f]{64}; the signed provenance records sha256:/ },
      ],
    );
  });

  test('provenance edited, its digest updated in release.json', async () => {
    const copy = await copyOf(keyless.manifestPath);
    const greeter = copy.manifest.images.find((i) => i.name === 'greeter')!;
    const statement = JSON.parse(await readFile(join(copy.dir, greeter.provenance!.path), 'utf8'));
    statement.predicate.runDetails.builder.id = 'https://github.com/actions/runner/github-hosted';
    const text = `${JSON.stringify(statement, null, 2)}\n`;
    await writeFile(join(copy.dir, greeter.provenance!.path), text);
    greeter.provenance!.digest = digestOf(text);
    await save(copy.manifestPath, copy.manifest);
    await expectForgery(
      ['--manifest', copy.manifestPath, ...keylessPolicy()],
      [{ image: 'greeter', id: 'provenance-binding', detail: /^provenance file provenance\/greeter\.intoto\.json differs from the signed provenance statement \(bundles\/greeter\/provenance\.sigstore\.json\)$/ }],
    );
  });

  test('bundles swapped between images', async () => {
    const copy = await copyOf(keyless.manifestPath);
    const [a, b] = [copy.manifest.images[0]!, copy.manifest.images[1]!];
    for (const ra of a.attestations) {
      const rb = b.attestations.find((x) => x.predicateType === ra.predicateType)!;
      const [da, db] = [await readFile(join(copy.dir, ra.bundlePath)), await readFile(join(copy.dir, rb.bundlePath))];
      await writeFile(join(copy.dir, ra.bundlePath), db);
      await writeFile(join(copy.dir, rb.bundlePath), da);
      [ra.bundleDigest, rb.bundleDigest] = [rb.bundleDigest, ra.bundleDigest];
      [ra.rekorLogIndex, rb.rekorLogIndex] = [rb.rekorLogIndex, ra.rekorLogIndex];
    }
    await save(copy.manifestPath, copy.manifest);
    const subject = (digest: string) => new RegExp(`SUBJECT_MISMATCH: statement is about sha256:[0-9a-f]{64}, not the image ${digest}`);
    const failed: Failed[] = [];
    for (const image of [a, b]) {
      for (const id of ['signature', 'provenance-attestation', 'sbom-attestation']) failed.push({ image: image.name, id, detail: subject(image.digest!) });
      failed.push({ image: image.name, id: 'referrers', detail: /has no referrer holding/ });
    }
    await expectForgery(['--manifest', copy.manifestPath, ...keylessPolicy()], failed);
  });

  test("release.json's claims edited: source commit, version, signer identity", async () => {
    const copy = await copyOf(keyless.manifestPath);
    const realCommit = copy.manifest.source.commit;
    copy.manifest.source.commit = 'f'.repeat(40);
    copy.manifest.version = 'example-v9.9.9-20990101.1';
    await save(copy.manifestPath, copy.manifest);
    const claims = new RegExp(
      `release.json says version example-v9.9.9-20990101.1, the signed provenance says ${keyless.manifest.version}; release.json says source.commit f{40}, the signed provenance says ${realCommit}`,
    );
    await expectForgery(
      ['--manifest', copy.manifestPath, ...keylessPolicy()],
      ['greeter', 'hello', 'toolbox'].map((image) => ({ image, id: 'release-claims', detail: claims })),
    );
    copy.manifest.source.commit = realCommit;
    copy.manifest.version = keyless.manifest.version;
    copy.manifest.signer.identity = 'https://github.com/wellmaintained/packages/.github/workflows/other.yml@refs/heads/main';
    await save(copy.manifestPath, copy.manifest);
    await expectForgery(['--manifest', copy.manifestPath, ...keylessPolicy()], [{ id: 'signer-claims', detail: /release.json claims identity .*other\.yml@refs\/heads\/main; the policy requires / }]);
  });

  test('an SLSA level claimed above what the evidence supports', async () => {
    const copy = await copyOf(keyless.manifestPath);
    copy.manifest.slsa = { level: 3, reasons: ['trust me'] };
    await save(copy.manifestPath, copy.manifest);
    await expectForgery(
      ['--manifest', copy.manifestPath, ...keylessPolicy()],
      [{ id: 'slsa-claim', detail: /^release\.json claims SLSA Build L3; the verified evidence supports L1: the build did not run on a hosted CI platform/ }],
    );
  });

  test('a missing bundle', async () => {
    const copy = await copyOf(keyless.manifestPath);
    const toolbox = copy.manifest.images.find((i) => i.name === 'toolbox')!;
    await rm(join(copy.dir, toolbox.attestations.find((a) => a.predicateType === 'https://slsa.dev/provenance/v1')!.bundlePath));
    await expectForgery(
      ['--manifest', copy.manifestPath, ...keylessPolicy()],
      [
        { image: 'toolbox', id: 'bundle-files', detail: /^bundle bundles\/toolbox\/provenance\.sigstore\.json cannot be read \(ENOENT\)$/ },
        { image: 'toolbox', id: 'provenance-attestation', detail: /ATTESTATION_MISSING: no https:\/\/slsa\.dev\/provenance\/v1 attestation for sha256:/ },
      ],
    );
  });

  test('a layer blob corrupted at the same size in the registry', async () => {
    const hello = keyless.manifest.images.find((i) => i.name === 'hello')!;
    // A layer only this image has (the base layers are shared, and would fail every image).
    const shared = new Set(keyless.manifest.images.filter((i) => i !== hello).flatMap((i) => i.layers.map((l) => l.digest)));
    const index = hello.layers.findIndex((l) => !shared.has(l.digest));
    const layer = hello.layers[index]!;
    const blob = join(registry.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7), 'data');
    const original = await readFile(blob);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 600]! ^= 0xff;
    await writeFile(blob, corrupt);
    try {
      await expectForgery(
        ['--manifest', keyless.manifestPath, ...keylessPolicy()],
        [{ image: 'hello', id: 'blobs', detail: new RegExp(`layer ${layer.digest}: corrupt \\(registry \\S+ served ${layer.size} bytes hashing to sha256:[0-9a-f]{64} for blob ${layer.digest} of ${layer.size} bytes\\)`) }],
      );
    } finally {
      await writeFile(blob, original);
    }
  });
});

describe('the audit pack', () => {
  let packPath: string;

  test('has reproducible bytes and holds the release, its schema, trusted root, page and README', async () => {
    const [a, b] = [join(work, 'a.tar.gz'), join(work, 'b')];
    for (const out of [a, b]) await pack(['--manifest', keyless.manifestPath, '--out', out], context(keyless.repo).ctx);
    packPath = join(work, 'b', `${keyless.manifest.version}.audit.tar.gz`);
    expect((await readFile(a)).equals(await readFile(packPath))).toBe(true);
    const files = await readPack(packPath);
    const names = [...files.keys()];
    for (const n of [PACK.manifest, PACK.schema, PACK.trustedRoot, PACK.readme, PACK.sums, 'page/index.html', 'page/provenance.md', 'sbom/hello.cdx.json', 'provenance/hello.intoto.json', 'bundles/hello/sbom.sigstore.json']) {
      expect(names).toContain(n);
    }
    expect(names).toEqual([...names].sort());
    expect(files.get(PACK.trustedRoot)!.equals(await readFile(stack.trustedRootPath))).toBe(true);
    expect(files.get(PACK.readme)!.toString()).toContain(`pnpm verify --pack ${keyless.manifest.version}.audit.tar.gz --certificate-identity ${keyless.manifest.signer.identity}`);
  });

  test('an independent verifier (node:crypto only) accepts every bundle in the pack', async () => {
    const files = await readPack(packPath);
    const trustedRoot = JSON.parse(files.get(PACK.trustedRoot)!.toString());
    const manifest = JSON.parse(files.get(PACK.manifest)!.toString()) as ReleaseManifest;
    let checked = 0;
    for (const image of manifest.images) {
      for (const a of image.attestations) {
        const result = verifyKeylessIndependently(JSON.parse(files.get(a.bundlePath)!.toString()), trustedRoot, {
          identity: manifest.signer.identity!,
          issuer: stack.issuerUrl,
          digest: image.digest!,
        });
        expect(result.predicateType).toBe(a.predicateType);
        checked++;
      }
    }
    expect(checked).toBe(9);
    // And the key-signed release's bundles, against the verifier's own copy of the key.
    await pack(['--manifest', keyed.manifestPath, '--out', join(work, 'keyed')], context(keyed.repo).ctx);
    const keyedFiles = await readPack(join(work, 'keyed', `${keyed.manifest.version}.audit.tar.gz`));
    const pem = await readFile(keyed.publicKey, 'utf8');
    for (const image of keyed.manifest.images) {
      for (const a of image.attestations) {
        expect(verifyKeySignedIndependently(JSON.parse(keyedFiles.get(a.bundlePath)!.toString()), pem, image.digest!)).toBe(a.predicateType);
      }
    }
  });

  test('verify --pack passes with networking disabled (unshare -n), registry checks reported as not checked', async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const tsx = join(sourceRoot, 'node_modules', '.bin', 'tsx');
      const child = spawn('unshare', ['-n', tsx, '--conditions=source', join(sourceRoot, 'packages/release/src/cli.ts'), 'verify', '--pack', packPath, ...keylessPolicy(), '--json'], {
        cwd: keyless.repo,
        env: releaseEnv({ RELEASE_TUF_MIRROR_URL: 'http://127.0.0.1:9' }),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as VerificationReport;
    expect(report.release.map((c) => `${c.id}:${c.status}`)).toEqual(['pack-index:passed', 'pack-schema:passed', 'pack-trusted-root:passed', 'schema:passed', 'signer-claims:passed', 'slsa-claim:passed']);
    for (const image of report.images) {
      expect(image.checks.filter((c) => c.status === 'failed')).toEqual([]);
      expect(image.checks.filter((c) => c.status === 'not-checked').map((c) => `${c.id}: ${c.detail}`)).toEqual([
        'blobs: verified from the audit pack, offline',
        'referrers: verified from the audit pack, offline',
      ]);
    }
  });

  test('a pack with any file changed is refused', async () => {
    const files = await readPack(packPath);
    /** The pack with one byte of `name` flipped; `resum` rewrites SHA256SUMS to match, as a forger would. */
    const changed = async (name: string, resum: boolean) => {
      const list = [...files].map(([path, data]) => ({ path, data: Buffer.from(data) }));
      const file = list.find((f) => f.path === name)!;
      file.data[Math.floor(file.data.length / 2)]! ^= 0x01;
      const bytes = resum ? buildPack(list.filter((f) => f.path !== PACK.sums), 0) : tarGz(list, 0);
      const path = join(work, `changed.audit.tar.gz`);
      await writeFile(path, bytes);
      return path;
    };
    for (const name of ['release.json', 'sbom/toolbox.cdx.json', 'bundles/greeter/signature.sigstore.json', PACK.trustedRoot, PACK.schema, 'page/index.html', PACK.readme]) {
      const { report, error } = await verifyReport(['--pack', await changed(name, false), ...keylessPolicy()]);
      expect(isReleaseError(error, 'VERIFICATION_FAILED'), name).toBe(true);
      expect(report.release[0]).toMatchObject({ id: 'pack-index', status: 'failed', detail: expect.stringContaining(`${name} was changed: it hashes to sha256:`) });
    }
    // With SHA256SUMS rewritten to match, the signatures still refuse the changed SBOM.
    const { report } = await verifyReport(['--pack', await changed('sbom/toolbox.cdx.json', true), ...keylessPolicy()]);
    expect(report.release[0]).toMatchObject({ id: 'pack-index', status: 'passed' });
    expect(report.images.find((i) => i.name === 'toolbox')!.checks.find((c) => c.id === 'sbom-binding')).toMatchObject({ status: 'failed' });
    // Hostile archives: not gzip; an entry that leaves the directory; too large once expanded.
    await writeFile(join(work, 'junk.tar.gz'), 'not a pack');
    await expect(verify(['--pack', join(work, 'junk.tar.gz'), ...keylessPolicy()], context().ctx)).rejects.toMatchObject({ code: 'ARCHIVE_ERROR' });
    await writeFile(join(work, 'escape.tar.gz'), tarGz([{ path: '../../etc/evil', data: Buffer.from('x') }], 0));
    await expect(verify(['--pack', join(work, 'escape.tar.gz'), ...keylessPolicy()], context().ctx)).rejects.toMatchObject({ code: 'ARCHIVE_ERROR', message: expect.stringMatching(/unsafe tar entry/) });
    await expect(readPack(packPath, { ...PACK_LIMITS, expandedBytes: 1024 })).rejects.toMatchObject({ code: 'ARCHIVE_ERROR', message: expect.stringMatching(/expands beyond 1024 bytes/) });
    await expect(readPack(packPath, { ...PACK_LIMITS, entries: 3 })).rejects.toMatchObject({ code: 'ARCHIVE_ERROR', message: expect.stringMatching(/more than 3 files/) });
  });

  test("a key-signed pack verifies offline with the verifier's key; another key is named", async () => {
    const keyedPack = join(work, 'keyed-own.tar.gz');
    await pack(['--manifest', keyed.manifestPath, '--out', keyedPack], context(keyed.repo).ctx);
    const { report, error } = await verifyReport(['--pack', keyedPack, ...keyPolicy()]);
    expect(error).toBeUndefined();
    expect(report.release.find((c) => c.id === 'pack-key')).toMatchObject({ status: 'passed', detail: 'keys/release.pub' });
    const other = await loadOrCreateSigningKey(join(work, 'other-key'));
    await expectForgery(
      ['--pack', keyedPack, '--key', other.publicKeyPath!],
      [
        { id: 'pack-key', detail: new RegExp(`keys/release.pub has fingerprint ${keyed.manifest.signer.keyFingerprint}; the policy trusts ${other.fingerprint}`) },
        { id: 'signer-claims', detail: new RegExp(`release.json claims key ${keyed.manifest.signer.keyFingerprint}; the policy trusts key ${other.fingerprint}`) },
        ...['greeter', 'hello', 'toolbox'].flatMap((image) =>
          ['signature', 'provenance-attestation', 'sbom-attestation'].map((id) => ({ image, id, detail: /KEY_MISMATCH: bundle was signed with key / })),
        ),
      ],
    );
  });

  test("offline keyless verification needs the verifier's trusted root", async () => {
    const e = await verify(['--pack', packPath, ...keylessPolicy().slice(0, 4)], context().ctx).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/offline verification of keyless bundles needs --trusted-root FILE/) });
  });
});

describe('pnpm page verifies before it renders', () => {
  test('renders the verified release with the report; --strict refuses a forged one and writes nothing', async () => {
    const out = join(work, 'page-ok');
    const { ctx, out: printed } = context();
    await page(['--manifest', keyless.manifestPath, '--out', out, ...keylessPolicy(), '--strict'], ctx);
    expect(printed.join('\n')).toMatch(/every verification check passed/);
    const copy = await copyOf(keyless.manifestPath);
    copy.manifest.source.commit = 'e'.repeat(40);
    await save(copy.manifestPath, copy.manifest);
    const forgedOut = join(work, 'page-forged');
    await expect(page(['--manifest', copy.manifestPath, '--out', forgedOut, ...keylessPolicy(), '--strict'], context().ctx)).rejects.toMatchObject({
      code: 'VERIFICATION_FAILED',
      details: expect.arrayContaining([expect.stringMatching(/^greeter: release.json's collection, version, source and repository match the signed provenance: release.json says source.commit e{40}/)]),
    });
    await expect(readFile(join(forgedOut, 'index.html'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(page(['--manifest', copy.manifestPath, '--out', forgedOut], context().ctx)).rejects.toMatchObject({ code: 'USAGE' });
  });

  test('a page rendered from a tampered release never says "verified" for what fails', async () => {
    const copy = await withEditedSbom(keyless.manifestPath);
    const out = join(work, 'page-tampered');
    const { ctx, out: printed } = context();
    await page(['--manifest', copy.manifestPath, '--out', out, ...keylessPolicy()], ctx);
    expect(printed.join('\n')).toMatch(/verification checks FAILED/);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    // The summary: not every image verified, and hello's chip says it failed.
    expect(html).toMatch(/class="big verified-some"/);
    const chips = [...html.matchAll(/<li class="chip (\w[\w-]*)"><a href="#[^"]+">([^<]+)<\/a>/g)].map((m) => [m[2], m[1]]);
    expect(Object.fromEntries(chips)).toEqual({ greeter: 'passed', hello: 'failed', toolbox: 'passed' });
    // hello's entry lists the failed binding check and opens itself.
    const entry = html.slice(html.indexOf('<span class="name">hello</span>') - 200, html.indexOf('<span class="name">toolbox</span>'));
    expect(entry).toMatch(/<details[^>]*open/);
    expect(entry).toMatch(/<li class="check failed">[\s\S]*SBOM file sbom\/hello\.cdx\.json differs from the SBOM in the signed attestation/);
    expect(entry).not.toMatch(/<span class="chip passed">/);
  });
});
