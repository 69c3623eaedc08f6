/**
 * Writing and verifying a release's audit pack (format: audit-pack.ts).
 * packRelease gathers the files a release links, its trusted root or public
 * key and its page; verifyPack reads a pack, checks its SHA256SUMS, extracts
 * it to a private directory and runs verifyRelease offline: no registry, no
 * TUF, nothing fetched.
 */

import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { keyFingerprint } from '@nixrel/attest';
import { type CheckStatus, ReleaseError, type ReleaseManifest, sha256Digest, type VerificationCheck, type VerificationReport, validateManifest } from '@nixrel/core';
import { buildPack, ownManifestSchema, PACK, type PackFile, packIndexProblems, readPack } from './audit-pack.js';
import type { VerifierPolicy } from './verifier-policy.js';
import { readManifestForCheck, verifyRelease } from './verify-release.js';

export function packFileName(version: string): string {
  return `${version}.audit.tar.gz`;
}

/** The README inside a pack: what it holds and the commands, with the signer to check before pinning it. */
function packReadme(manifest: ReleaseManifest): string {
  const pack = packFileName(manifest.version);
  const policy =
    manifest.signer.mode === 'keyless'
      ? `--certificate-identity ${manifest.signer.identity ?? 'ID'} --certificate-oidc-issuer ${manifest.signer.issuer ?? 'ISSUER'} --trusted-root TRUSTED_ROOT.json`
      : '--key RELEASE.pub';
  const who =
    manifest.signer.mode === 'keyless'
      ? `The release claims it was signed keylessly by ${manifest.signer.identity} (issuer ${manifest.signer.issuer}).`
      : `The release claims it was signed with the key ${manifest.signer.keyFingerprint} (NOT keyless).`;
  return [
    `# Audit pack of ${manifest.collection} ${manifest.version}`,
    '',
    'release.json, its JSON Schema, every SBOM, provenance statement and Sigstore bundle,',
    `${manifest.signer.mode === 'keyless' ? 'the Sigstore trusted root the release was signed against (trusted_root.json)' : 'the public key the release names'},`,
    'the provenance page (page/) and SHA256SUMS of every file.',
    '',
    who,
    'That is a claim: check it against who should sign this collection, and pin what you',
    'trust yourself (a trusted root or key you obtained, not only the copy in this pack):',
    '',
    '```sh',
    `pnpm verify --pack ${pack} ${policy}`,
    `mkdir pack && tar -xzf ${pack} -C pack && (cd pack && sha256sum -c SHA256SUMS)`,
    '```',
    '',
    'Verification needs no network: the bundles carry their transparency-log proofs and timestamps.',
    '',
  ].join('\n');
}

/** Files the manifest links, each once, as paths relative to its directory. */
function linkedPaths(manifest: ReleaseManifest): string[] {
  const paths = manifest.images.flatMap((i) => [i.sbom?.path, i.provenance?.path, ...i.attestations.map((a) => a.bundlePath)]);
  if (manifest.signer.publicKeyPath) paths.push(manifest.signer.publicKeyPath);
  return [...new Set(paths.filter((p): p is string => !!p))];
}

async function readInside(dir: string, path: string, what: string): Promise<Buffer> {
  const full = resolve(dir, path);
  if (!full.startsWith(`${resolve(dir)}/`)) throw new ReleaseError('INVALID_INPUT', `${what} ${path} is outside the release directory ${dir}`);
  try {
    return await readFile(full);
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Builds the pack of the release at `manifestPath`; `pageDir` adds its index.html and provenance.md. */
export async function packRelease(manifestPath: string, pageDir?: string): Promise<{ manifest: ReleaseManifest; bytes: Buffer; files: string[] }> {
  const dir = dirname(resolve(manifestPath));
  const { text, data } = await readManifestForCheck(manifestPath);
  const manifest = validateManifest(data, `release manifest ${manifestPath}`);
  const files: PackFile[] = [
    { path: PACK.manifest, data: Buffer.from(text) },
    { path: PACK.schema, data: await ownManifestSchema() },
    { path: PACK.readme, data: Buffer.from(packReadme(manifest)) },
  ];
  for (const path of linkedPaths(manifest)) files.push({ path, data: await readInside(dir, path, 'linked file') });
  if (manifest.signer.mode === 'keyless') {
    if (!existsSync(join(dir, PACK.trustedRoot))) {
      throw new ReleaseError('NOT_FOUND', `${join(dir, PACK.trustedRoot)} is missing: a keyless release records the trusted root it was signed against there`);
    }
    files.push({ path: PACK.trustedRoot, data: await readFile(join(dir, PACK.trustedRoot)) });
  }
  for (const page of ['index.html', 'provenance.md']) {
    if (pageDir && existsSync(join(pageDir, page))) files.push({ path: `${PACK.pageDir}/${page}`, data: await readFile(join(pageDir, page)) });
  }
  const mtime = Math.max(0, Math.floor(Date.parse(manifest.date) / 1000) || 0);
  return { manifest, bytes: buildPack(files, mtime), files: files.map((f) => f.path).sort() };
}

function check(id: string, title: string, status: CheckStatus, detail?: string): VerificationCheck {
  return { id, title, status, ...(detail ? { detail } : {}) };
}

/** Checks of the pack's own files that are not evidence of the release but must not have changed. */
async function packChecks(files: Map<string, Buffer>, verifier: VerifierPolicy, trustedRootFile: string | undefined): Promise<VerificationCheck[]> {
  const problems = packIndexProblems(files);
  const checks = [check('pack-index', `Every file of the pack matches its ${PACK.sums}`, problems.length ? 'failed' : 'passed', problems.join('; ') || undefined)];
  const schema = files.get(PACK.schema);
  checks.push(
    schema?.equals(await ownManifestSchema())
      ? check('pack-schema', "The pack's JSON Schema is the verifier's own", 'passed')
      : check('pack-schema', "The pack's JSON Schema is the verifier's own", 'failed', schema ? `${PACK.schema} differs from this verifier's schema` : `${PACK.schema} is missing`),
  );
  if (verifier.report.mode === 'key') {
    let keyPath: string | undefined;
    try {
      keyPath = (JSON.parse(files.get(PACK.manifest)!.toString('utf8')) as { signer?: { publicKeyPath?: unknown } }).signer?.publicKeyPath as string | undefined;
    } catch {
      keyPath = undefined;
    }
    if (typeof keyPath !== 'string' || !files.has(keyPath)) keyPath = undefined;
    let fingerprint: string | undefined;
    try {
      fingerprint = keyPath ? keyFingerprint(createPublicKey(files.get(keyPath)!)) : undefined;
    } catch {
      fingerprint = 'unreadable';
    }
    checks.push(
      fingerprint === verifier.report.keyFingerprint
        ? check('pack-key', "The pack's public key is the key the verifier trusts", 'passed', keyPath)
        : check('pack-key', "The pack's public key is the key the verifier trusts", 'failed', `${keyPath ?? 'public key'} has fingerprint ${fingerprint ?? '(none)'}; the policy trusts ${verifier.report.keyFingerprint}`),
    );
  } else {
    const packed = files.get(PACK.trustedRoot);
    const mine = trustedRootFile ? await readFile(trustedRootFile) : undefined;
    const title = "The pack's trusted root is the one the verifier gave";
    checks.push(
      !packed
        ? check('pack-trusted-root', title, 'failed', `${PACK.trustedRoot} is missing from the pack`)
        : mine && sha256Digest(mine) === sha256Digest(packed)
          ? check('pack-trusted-root', title, 'passed')
          : check('pack-trusted-root', title, 'not-checked', `${PACK.trustedRoot} (${sha256Digest(packed)}) differs from ${trustedRootFile}; verified against ${trustedRootFile}`),
    );
  }
  return checks;
}

/** Verifies an audit pack offline against the verifier's policy. */
export async function verifyPack(packPath: string, verifier: VerifierPolicy, trustedRootFile: string | undefined): Promise<VerificationReport> {
  const files = await readPack(packPath);
  if (!files.has(PACK.manifest)) throw new ReleaseError('INVALID_INPUT', `audit pack ${packPath} holds no ${PACK.manifest}`);
  const work = await mkdtemp(join(tmpdir(), 'audit-pack-'));
  try {
    for (const [path, data] of files) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), data, { mode: 0o600 });
    }
    const report = await verifyRelease({
      manifestPath: join(work, PACK.manifest),
      verifier,
      registry: false,
      offlineReason: 'verified from the audit pack, offline',
    });
    const checks = await packChecks(files, verifier, trustedRootFile);
    report.release.unshift(...checks);
    report.ok &&= checks.every((c) => c.status !== 'failed');
    return report;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
