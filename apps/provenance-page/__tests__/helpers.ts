import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReleaseDiff, ReleaseManifest, VerificationReport } from '@nixrel/core';
import { parseHTML } from 'linkedom';

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

export interface TestRelease {
  dir: string;
  manifestPath: string;
  outDir: string;
  manifest: ReleaseManifest;
  cleanup: () => Promise<void>;
}

/** A copy of a fixture release in a temp dir, optionally edited, with an empty output dir next to it. */
export async function fixtureRelease(variant: 'keyless' | 'key', edit?: (m: ReleaseManifest) => void): Promise<TestRelease> {
  const root = await mkdtemp(join(tmpdir(), 'provenance-page-'));
  const dir = join(root, 'release');
  await cp(join(FIXTURES, variant), dir, { recursive: true });
  const manifestPath = join(dir, 'release.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ReleaseManifest;
  if (edit) {
    edit(manifest);
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return { dir, manifestPath, outDir: join(root, 'site'), manifest, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export function parsePage(html: string) {
  return parseHTML(html).document;
}

/** Files under dir, relative, sorted; [] when dir does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

/** Hostile values placed in every free-text field a manifest allows. */
export const HOSTILE = {
  script: '<script>alert("pwned")</script>',
  attr: '" onmouseover="alert(1)" x="',
  mustache: '{{constructor.constructor("alert(1)")()}}',
  jsUrl: 'javascript:alert(document.domain)',
  mdLink: '[click me](javascript:alert(3))',
  html: '<img src=x onerror=alert(2)>',
  shell: "https://github.com/x/y/.github/workflows/a.yml@refs/tags/v1'$(touch /tmp/pwned)'",
};

export function makeHostile(m: ReleaseManifest): void {
  m.source.repository = HOSTILE.jsUrl;
  m.source.tag = HOSTILE.mdLink;
  m.builder.id = HOSTILE.html;
  m.builder.workflow = HOSTILE.mustache;
  m.builder.runUrl = 'https://evil.example/"><script>alert(1)</script>';
  m.signer.identity = HOSTILE.shell;
  m.slsa.reasons = [HOSTILE.script, HOSTILE.mdLink, `</td></tr></table>${HOSTILE.html}`, '| a | b |\n# heading\n```'];
  const img = m.images[0]!;
  img.metadata.description = HOSTILE.script;
  img.metadata.title = HOSTILE.attr;
  img.metadata.homepage = HOSTILE.jsUrl;
  img.metadata.licenses = HOSTILE.mustache;
  img.version = HOSTILE.html;
  img.attribute = "postgres'; rm -rf ~; echo '";
  for (const a of img.attestations) a.signerIdentity = HOSTILE.shell;
  img.sbom!.licences = { [HOSTILE.script]: 2, [HOSTILE.mdLink]: 1 };
  img.provenance!.buildType = HOSTILE.attr;
}

const CHECKS = [
  { id: 'signature', title: 'Signatures verify against the policy' },
  { id: 'sbom-binding', title: 'SBOM file matches the signed SBOM attestation' },
  { id: 'provenance-binding', title: 'Provenance file matches the signed provenance' },
];

/** A verifier's report, as the verifier would write it: every check passed, except where told. */
export function fixtureReport(manifest: ReleaseManifest, outcome: Record<string, { failed?: string; notChecked?: string }> = {}): VerificationReport {
  const images = manifest.images.map((image) => {
    const o = outcome[image.name] ?? {};
    const checks = CHECKS.map((c) => {
      if (c.id === o.failed) return { ...c, status: 'failed' as const, detail: `${image.sbom!.path} differs from the signed SBOM` };
      if (c.id === o.notChecked) return { ...c, status: 'not-checked' as const, detail: 'registry not reachable' };
      return { ...c, status: 'passed' as const };
    });
    return { name: image.name, digest: image.digest!, ok: checks.every((c) => c.status === 'passed'), checks };
  });
  return {
    checkedAt: '2026-04-05T15:00:00Z',
    policy: {
      mode: 'keyless',
      certificateIdentity: manifest.signer.identity!,
      certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
      trustedRoot: 'tuf:https://tuf-repo-cdn.sigstore.dev',
    },
    release: [{ id: 'schema', title: 'release.json matches its JSON Schema', status: 'passed' }],
    images,
    ok: images.every((i) => i.ok),
  };
}

/** What changed since a previous release, as the release computes it. */
export function fixtureDiff(manifest: ReleaseManifest): ReleaseDiff {
  const empty = { tags: { added: [], removed: [] }, components: { added: [], removed: [], changed: [] }, licences: { added: [], removed: [] }, flakeInputs: [], notCompared: [] };
  const [postgres, redis, ...rest] = manifest.images;
  return {
    from: { collection: 'sbomify', version: 'sbomify-v26.0.0-20260301.1', date: '2026-03-01T10:00:00Z' },
    to: { collection: 'sbomify', version: manifest.version, date: manifest.date },
    images: [
      {
        ...empty,
        name: postgres!.name,
        status: 'changed',
        version: postgres!.version,
        digest: postgres!.digest!,
        digestChange: { from: `sha256:${'1'.repeat(64)}`, to: postgres!.digest },
        versionChange: { from: '17.3', to: postgres!.version },
        components: { added: [{ name: 'lz4', version: '1.10.0' }], removed: [], changed: [{ name: 'openssl', from: '3.3.2', to: '3.3.3' }] },
        licences: { added: ['BSD-2-Clause'], removed: [] },
        closureSize: { from: 100 * 1024 * 1024, to: 101 * 1024 * 1024 },
        flakeInputs: [{ name: 'nixpkgs', from: 'a'.repeat(40), to: 'b'.repeat(40) }],
      },
      { ...empty, name: redis!.name, status: 'added', version: redis!.version, digest: redis!.digest!, components: { added: [{ name: 'redis', version: '7.2.7' }], removed: [], changed: [] } },
      { ...empty, name: 'memcached', status: 'removed', version: '1.6.29' },
      ...rest.map((i) => ({ ...empty, name: i.name, status: 'unchanged' as const, version: i.version, digest: i.digest! })),
    ],
    summary: { added: 1, removed: 1, changed: 1, unchanged: rest.length, componentsAdded: 1, componentsRemoved: 0, componentsChanged: 1 },
  };
}

