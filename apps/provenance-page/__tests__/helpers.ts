import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReleaseManifest } from '@nixrel/core';
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
