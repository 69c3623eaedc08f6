import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReleaseManifest } from '@nixrel/core';
import { isReleaseError, sha256Digest } from '@nixrel/core';
import { marked } from 'marked';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPage } from '../src/index.js';
import { fixtureDiff, fixtureRelease, fixtureReport, listFiles, parsePage, type TestRelease } from './helpers.js';

let release: TestRelease | undefined;
afterEach(async () => {
  await release?.cleanup();
  release = undefined;
});

const tile = (doc: Document, label: string) => [...doc.querySelectorAll('#summary dt')].find((d) => d.textContent === label)?.nextElementSibling?.textContent;

describe('the summary', () => {
  it('says what a reader needs at a glance, and "not verified when rendered" without a report', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    const components = release.manifest.images.reduce((n, i) => n + i.sbom!.components, 0);
    expect(tile(doc, 'Images')).toBe('7');
    expect(tile(doc, 'SLSA')).toBe('Build L3');
    expect(tile(doc, 'Verified when rendered')).toBe('not verified when rendered');
    expect(tile(doc, 'Reproduced')).toBe('5 of 7, 1 differ');
    expect(tile(doc, 'Components')).toBe(String(components));
    expect(tile(doc, 'Signed with')).toBe('Sigstore keyless by example-org/packages/.github/workflows/attest.yml');
    expect(tile(doc, 'Changes')).toBe('no earlier release recorded');
    // The release's own verification fields say ok; the page still does not claim "verified".
    expect(release.manifest.images.every((i) => i.verification?.ok)).toBe(true);
    expect(doc.body.textContent).not.toMatch(/\bverified: yes\b|signed and verified/);
    expect(doc.querySelector('#summary .chips')).toBeNull();
  });

  it('shows per image what passed, failed and was not checked, from the verifier report only', async () => {
    release = await fixtureRelease('keyless', (m) => {
      // The release claims a failure for postgres; the verifier's finding is what counts.
      m.images[0]!.verification = { ...m.images[0]!.verification!, ok: false, failures: ['claimed by the release'] };
    });
    const verification = fixtureReport(release.manifest, { minio: { failed: 'sbom-binding' }, redis: { notChecked: 'signature' } });
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, verification });
    const doc = parsePage(indexHtml);
    expect(tile(doc, 'Verified when rendered')).toBe('5 of 7 verified');
    const chips = [...doc.querySelectorAll('#summary .chips li')].map((li) => [li.querySelector('a')!.textContent, li.className, li.querySelector('.chip-state')!.textContent]);
    expect(chips).toEqual([
      ['postgres', 'chip passed', 'yes'],
      ['redis', 'chip partial', 'partly'],
      ['minio', 'chip failed', 'no'],
      ['sbomify-app', 'chip passed', 'yes'],
      ['sbomify-keycloak', 'chip passed', 'yes'],
      ['sbomify-caddy-dev', 'chip passed', 'yes'],
      ['sbomify-minio-init', 'chip passed', 'yes'],
    ]);
    const checks = (name: string) => [...doc.querySelectorAll(`#image-${name} ul.checks li`)].map((li) => li.querySelector('.check-state')!.textContent);
    expect(checks('postgres')).toEqual(['passed', 'passed', 'passed']);
    expect(checks('minio')).toEqual(['passed', 'failed', 'passed']);
    expect(checks('redis')).toEqual(['not checked', 'passed', 'passed']);
    expect(doc.querySelector('#image-minio ul.checks li.failed')!.textContent).toContain('sbom/minio.cdx.json differs from the signed SBOM');
    // Open: the failed image and the one whose rebuild differs; a partial check alone is no problem.
    expect([...doc.querySelectorAll('#images details.image[open]')].map((d) => d.id)).toEqual(['image-minio', 'image-sbomify-app']);
    expect(doc.querySelector('#image-minio .problems')!.textContent).toBe('verification failed: 1 of 3 checks');
    // The policy the verifier pinned is stated.
    const section = doc.getElementById('verification')!.textContent!;
    expect(section).toContain(`signer identity ${release.manifest.signer.identity}`);
    expect(section).toContain('trusted root tuf:https://tuf-repo-cdn.sigstore.dev');
  });

  it('--strict with a report that has a failure is refused before anything is written', async () => {
    release = await fixtureRelease('keyless');
    const verification = fixtureReport(release.manifest, { minio: { failed: 'sbom-binding' } });
    const err = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, verification, strict: true }).catch((e: unknown) => e);
    expect(isReleaseError(err, 'VERIFICATION_FAILED')).toBe(true);
    expect((err as { details: string[] }).details).toEqual(['minio: SBOM file matches the signed SBOM attestation: sbom/minio.cdx.json differs from the signed SBOM']);
    expect(await listFiles(release.outDir)).toEqual([]);
  });
});

describe('what changed', () => {
  it('lists added, removed and changed images with their changes, and counts them in the summary', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml, markdown } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, diff: fixtureDiff(release.manifest) });
    const doc = parsePage(indexHtml);
    expect(doc.querySelector('#changes-title')!.textContent).toBe('What changed since sbomify-v26.0.0-20260301.1');
    expect(tile(doc, 'Changed since sbomify-v26.0.0-20260301.1')).toBe('1 changed, 1 added, 1 removed; 2 component changes');
    const items = [...doc.querySelectorAll('#changes ul.changes > li')].map((li) => ({
      name: li.querySelector('.name')!.textContent,
      href: li.querySelector('.name a')?.getAttribute('href'),
      status: li.querySelector('.tag')!.textContent,
      lines: [...li.querySelectorAll('ul li')].map((l) => l.textContent),
    }));
    expect(items).toEqual([
      {
        name: 'postgres',
        href: '#image-postgres',
        status: 'changed',
        lines: [
          'version 17.3 → 17.4',
          'openssl 3.3.2 → 3.3.3',
          'added lz4 1.10.0',
          'licence added: BSD-2-Clause',
          'closure +1.0 MiB (100.0 MiB → 101.0 MiB)',
          'flake input nixpkgs: aaaaaaaaaaaa… → bbbbbbbbbbbb…',
        ],
      },
      { name: 'redis', href: '#image-redis', status: 'new image', lines: ['1 component'] },
      { name: 'memcached', href: undefined, status: 'removed', lines: [] },
    ]);
    expect(doc.querySelector('#changes p')!.textContent).toContain('Unchanged: minio, sbomify-app, sbomify-keycloak, sbomify-caddy-dev, sbomify-minio-init.');
    const md = parsePage(`<body>${await marked.parse(markdown.replace(/^---[\s\S]*?---\n/, ''), { gfm: true })}</body>`);
    const mdItems = [...md.querySelectorAll('li')].map((li) => li.textContent).filter((t) => /\((changed|new image|removed)\)/.test(t ?? ''));
    expect(mdItems[0]).toMatch(/^postgres \(changed\): version 17\.3 → 17\.4; openssl 3\.3\.2 → 3\.3\.3; added lz4 1\.10\.0; licence added: BSD-2-Clause;/);
    expect(mdItems.slice(1)).toEqual(['redis (new image): 1 component', 'memcached (removed)']);
  });

  it('reads the diff release.json names, checks its digest, copies and links it', async () => {
    release = await fixtureRelease('keyless');
    const text = `${JSON.stringify(fixtureDiff(release.manifest), null, 2)}\n`;
    await writeFile(join(release.dir, 'diff.json'), text);
    const raw = JSON.parse(await readFile(release.manifestPath, 'utf8')) as ReleaseManifest;
    raw.previous = { version: 'sbomify-v26.0.0-20260301.1', diff: { path: 'diff.json', digest: sha256Digest(text) } };
    await writeFile(release.manifestPath, JSON.stringify(raw));
    const { indexHtml, files } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    expect(files).toContain('diff.json');
    const doc = parsePage(indexHtml);
    expect(doc.querySelectorAll('#changes ul.changes > li')).toHaveLength(3);
    expect(doc.querySelector('#changes a[href="diff.json"]')?.textContent).toBe('the full diff against sbomify-v26.0.0-20260301.1 (JSON)');

    await writeFile(join(release.dir, 'diff.json'), text.replace('"changed"', '"unchanged"'));
    const err = await renderPage({ manifestPath: release.manifestPath, outDir: join(release.dir, '..', 'other') }).catch((e: unknown) => e);
    expect(isReleaseError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect((err as Error).message).toMatch(/"diff\.json" \(\/previous\/diff\/path/);
  });

  it('says calmly when the previous release is named but its diff is not recorded', async () => {
    release = await fixtureRelease('keyless', (m) => {
      m.previous = { version: 'sbomify-v26.0.0-20260301.1' };
    });
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    expect(doc.querySelector('#changes p')!.textContent).toBe('Nothing to compare with: changes since sbomify-v26.0.0-20260301.1 not recorded.');
  });
});
