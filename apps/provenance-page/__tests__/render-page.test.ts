import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isReleaseError, sha256File } from '@nixrel/core';
import { afterEach, describe, expect, it } from 'vitest';
import { renderPage } from '../src/index.js';
import { fixtureRelease, HOSTILE, listFiles, makeHostile, parsePage, type TestRelease } from './helpers.js';

let release: TestRelease | undefined;
afterEach(async () => {
  await release?.cleanup();
  release = undefined;
});

async function expectRefused(r: TestRelease, code: string, message: RegExp, opts: { strict?: boolean } = {}) {
  const err = await renderPage({ manifestPath: r.manifestPath, outDir: r.outDir, ...opts }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isReleaseError(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  expect((err as Error).message).toMatch(message);
  // Refused before writing: the output directory was never created.
  expect(await listFiles(r.outDir)).toEqual([]);
  return err as Error & { details: string[] };
}

describe('renderPage on the keyless fixture release', () => {
  it('gives every image a folded entry with its full digest, signature and SBOM link', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, strict: true });
    const doc = parsePage(indexHtml);
    const entries = [...doc.querySelectorAll('#images details.image')];
    expect(entries.map((e) => e.id)).toEqual(release.manifest.images.map((i) => `image-${i.name}`));
    for (const image of release.manifest.images) {
      const entry = doc.getElementById(`image-${image.name}`)!;
      expect(entry.querySelector('summary .name')?.textContent).toBe(image.name);
      expect(entry.querySelector('code.digest')?.textContent).toBe(image.digest);
      const sbomLink = [...entry.querySelectorAll('a')].find((a) => a.textContent?.startsWith(`SBOM for ${image.name}`));
      expect(sbomLink?.getAttribute('href')).toBe(image.sbom!.path);
      expect(entry.querySelector(`a[href="${image.provenance!.path}"]`)).not.toBeNull();
      expect(entry.textContent).toContain(image.attestations[0]!.signerIdentity!);
      // Rekor entries of the public instance link to its search UI.
      const rekorLinks = [...entry.querySelectorAll('a')].filter((a) => a.getAttribute('href')?.startsWith('https://search.sigstore.dev/?logIndex='));
      expect(rekorLinks).toHaveLength(image.attestations.length);
    }
  });

  it('has the sections in reading order, headings, and no table to scroll', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    expect(doc.documentElement.getAttribute('lang')).toBe('en');
    expect(doc.querySelectorAll('h1')).toHaveLength(1);
    expect([...doc.querySelectorAll('h2')].map((h) => h.textContent)).toEqual([
      'Summary',
      'What changed',
      'Images',
      'SLSA Build Level 3',
      'Verify it yourself',
      'Reproduce it yourself',
      'Source',
      'Not recorded in this release',
    ]);
    for (const id of ['summary', 'about', 'changes', 'images', 'slsa', 'verification', 'reproducibility', 'source', 'unavailable']) expect(doc.getElementById(id), id).not.toBeNull();
    expect(doc.querySelectorAll('table')).toHaveLength(0);
    const header = doc.querySelector('header')!.textContent!;
    for (const fact of ['sbomify', release.manifest.version, release.manifest.source.commit.slice(0, 12), '2026-04-05 14:03 UTC']) expect(header).toContain(fact);
    // Only the page's own files, anchors and http(s) URLs are linked.
    for (const a of doc.querySelectorAll('a[href]')) expect(a.getAttribute('href')).toMatch(/^(https:\/\/|#|[a-z][a-z0-9._/-]*$)/);
    // Self-contained: no external stylesheet, image or script source.
    expect(doc.querySelectorAll('link[rel="stylesheet"], img, script[src], iframe')).toHaveLength(0);
  });

  it('displays the SLSA level and reasons the release computed, without re-deriving them', async () => {
    release = await fixtureRelease('keyless', (m) => {
      m.slsa = { level: 2, reasons: ['provenance signed in the build workflow itself'] };
    });
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    expect(doc.querySelector('#slsa-title')?.textContent).toBe('SLSA Build Level 2');
    expect(doc.querySelector('#about')!.textContent).toContain('This release is at Build L2.');
    const levels = [...doc.querySelectorAll('#slsa .levels li')].map((li) => [li.className, li.querySelector('strong')?.textContent]);
    expect(levels).toEqual([
      ['level met', 'Build L1: provenance exists'],
      ['level met', 'Build L2: hosted and signed'],
      ['level unmet', 'Build L3: hard to forge'],
    ]);
    expect([...doc.querySelectorAll('#slsa .reasons li')].map((li) => li.textContent)).toEqual(['provenance signed in the build workflow itself']);
    expect(doc.querySelector('#summary')!.textContent).toContain('Build L2');
  });

  it('shows reproducibility per image, and opens the entry whose rebuild differs', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml, missing } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    const reproduced = (name: string) => {
      const dt = [...doc.getElementById(`image-${name}`)!.querySelectorAll('dt')].find((d) => d.textContent === 'Reproduced')!;
      return dt.nextElementSibling!.textContent!;
    };
    expect(reproduced('postgres')).toContain('verified: the rebuilt digest matched');
    expect(reproduced('sbomify-app')).toContain('not reproducible');
    expect(reproduced('sbomify-app')).toContain('/nix/store/7rjvyixc0ghr6d1cpbnnxbk2b0ff2hv0-sbomify-static-26.1.0');
    expect(reproduced('sbomify-keycloak')).toContain('not checked: release ran without --reproduce');
    expect(missing).toEqual([
      { image: 'sbomify-keycloak', fact: 'reproducibility', reason: 'not checked: release ran without --reproduce', required: false },
      { fact: 'verification', reason: 'not verified when this page was rendered', required: false },
    ]);
    // Folding: only the image with a problem starts open.
    const open = [...doc.querySelectorAll('#images details.image[open]')].map((d) => d.id);
    expect(open).toEqual(['image-sbomify-app']);
    expect(doc.querySelector('#image-sbomify-app .problems')?.textContent).toBe('the rebuilt digest differs');
    expect(doc.querySelector('#summary')!.textContent).toContain('5 of 7, 1 differ');
    const commands = [...doc.querySelectorAll('#reproducibility pre code')].map((c) => c.textContent);
    expect(commands[0]).toBe('pnpm release reproduce --manifest release.json');
    expect(commands[1]).toContain("nix build --no-link --json \\\n  'github:example-org/packages/3f6c2a9e8b1d4c7f0a5e2b9d6c3f8a1e4b7d0c25#postgres'");
  });

  it('fills the verification commands with the real reference, identity and issuer', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    const img = release.manifest.images[1]!;
    const ref = `${img.repository}@${img.digest}`;
    const block = doc.getElementById(`verify-image-${img.name}`)!;
    const cmds = [...block.querySelectorAll('pre code')].map((c) => c.textContent!);
    const identity = img.attestations[0]!.signerIdentity!;
    expect(cmds).toContain(
      `cosign verify \\\n  --certificate-identity ${identity} \\\n  --certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n  ${ref}`,
    );
    expect(cmds.filter((c) => c.startsWith('cosign verify-attestation --type slsaprovenance1 \\'))).toHaveLength(1);
    expect(cmds.filter((c) => c.startsWith('cosign verify-attestation --type cyclonedx \\'))).toHaveLength(1);
    expect(cmds).toContain(
      `gh attestation verify oci://${ref} \\\n  --repo example-org/packages \\\n  --signer-workflow example-org/packages/.github/workflows/attest.yml \\\n  --bundle-from-oci`,
    );
    expect(cmds.some((c) => c.startsWith(`pnpm verify ${ref} --type slsaprovenance1`))).toBe(true);
    expect(doc.querySelector('#verification pre code')?.textContent).toBe('pnpm verify --manifest release.json \\\n  --trusted-root trusted_root.json');
    // One copy button per command (plus one per digest).
    const buttons = doc.querySelectorAll('button.copy[data-copy]');
    expect(buttons.length).toBe(doc.querySelectorAll('pre code').length + 7);
    for (const b of buttons) expect(doc.getElementById(b.getAttribute('data-copy')!)).not.toBeNull();
  });

  it('links the tag, flake.nix and image definitions at the release commit', async () => {
    release = await fixtureRelease('keyless');
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const hrefs = [...parsePage(indexHtml).querySelectorAll('#source a')].map((a) => a.getAttribute('href'));
    const c = release.manifest.source.commit;
    expect(hrefs).toEqual(
      expect.arrayContaining([
        'https://github.com/example-org/packages',
        `https://github.com/example-org/packages/commit/${c}`,
        'https://github.com/example-org/packages/tree/sbomify-v26.1.0-20260405.6',
        `https://github.com/example-org/packages/blob/${c}/flake.nix`,
        `https://github.com/example-org/packages/blob/${c}/flake.lock`,
        `https://github.com/example-org/packages/blob/${c}/packages/images/postgres/image.nix`,
      ]),
    );
  });

  it('copies release.json, its schema and every linked file, byte for byte', async () => {
    release = await fixtureRelease('keyless');
    const { files } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    expect((await listFiles(release.outDir)).sort()).toEqual([...files].sort());
    expect(files).toContain('release-manifest.schema.json');
    for (const image of release.manifest.images) {
      expect((await sha256File(join(release.outDir, image.sbom!.path))).digest).toBe(image.sbom!.digest);
      for (const a of image.attestations) expect((await sha256File(join(release.outDir, a.bundlePath))).digest).toBe(a.bundleDigest);
    }
    expect(await readFile(join(release.outDir, 'release.json'), 'utf8')).toBe(await readFile(release.manifestPath, 'utf8'));
  });
});

describe('renderPage on the key-signed fixture release', () => {
  it('labels key signing, links the public key and gives cosign the key flags', async () => {
    release = await fixtureRelease('key');
    const { indexHtml, files, missing } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, strict: true });
    const doc = parsePage(indexHtml);
    expect(files).toContain('keys/release.pub');
    expect(doc.querySelector('h2#slsa-title')?.textContent).toBe('SLSA Build Level 1');
    expect(doc.querySelector('#summary')!.textContent).toContain('a local key (not keyless)');
    const fp = release.manifest.signer.keyFingerprint!;
    for (const image of release.manifest.images) {
      const entry = doc.getElementById(`image-${image.name}`)!;
      expect(entry.textContent).toContain('key-signed (not keyless)');
      expect(entry.textContent).toContain(fp);
      expect(entry.textContent).toContain('no transparency log entry (key-signed without Rekor)');
    }
    const block = doc.getElementById('verify-image-postgres')!;
    const cmds = [...block.querySelectorAll('pre code')].map((c) => c.textContent!);
    const ref = `${release.manifest.images[0]!.repository}@${release.manifest.images[0]!.digest}`;
    expect(cmds).toContain(`cosign verify-attestation --type slsaprovenance1 \\\n  --key release.pub \\\n  --insecure-ignore-tlog=true \\\n  ${ref}`);
    expect(cmds.some((c) => c.startsWith('gh attestation'))).toBe(false);
    const unavailable = block.querySelector('.unavailable')!.textContent!;
    expect(unavailable).toContain('gh attestation verify: not applicable: it checks keyless GitHub Actions identities; this release is key-signed');
    expect(unavailable).toContain('cosign verify: not applicable: no image signature (cosign sign) recorded');
    expect(doc.querySelector('a[href="keys/release.pub"]')).not.toBeNull();
    // Built outside CI: said once in the list of what is not recorded, never claimed.
    expect(missing).toContainEqual({ fact: 'workflow run', reason: 'no workflow run: built outside CI', required: false });
    expect(doc.getElementById('unavailable')!.textContent).toContain('workflow run: no workflow run: built outside CI');
    expect(doc.querySelectorAll('#images .na')).toHaveLength(0);
    // A local registry has no web page: the repository is text.
    expect(doc.getElementById('image-postgres')!.querySelector('dd a[href*="127.0.0.1"]')).toBeNull();
  });
});

describe('missing facts', () => {
  it('lists what is missing once, with why, opens those images, and --strict refuses it listing every fact', async () => {
    release = await fixtureRelease('keyless', (m) => {
      const redis = m.images[1]!;
      redis.attestations = [];
      delete redis.verification;
      delete redis.stages.attest;
      delete redis.stages.verify;
      const minio = m.images[2]!;
      delete minio.sbom;
      delete minio.stages.sbom;
      delete m.builder.runUrl;
    });
    const { indexHtml, missing } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    const dd = (name: string, label: string) => [...doc.getElementById(`image-${name}`)!.querySelectorAll('dt')].find((d) => d.textContent === label)!.nextElementSibling!;
    expect(dd('redis', 'Signature').textContent).toBe('not signed, Sigstore keyless');
    expect(dd('minio', 'SBOM').textContent).toBe('not recorded');
    expect(dd('minio', 'Not recorded').textContent).toBe('SBOM (why)');
    expect(missing.filter((m) => m.required)).toEqual([
      { image: 'redis', fact: 'signature', reason: 'not signed: attestation stage has not run', required: true },
      { image: 'minio', fact: 'SBOM', reason: 'no SBOM: sbom stage has not run', required: true },
    ]);
    expect(doc.querySelectorAll('.missing-list li')).toHaveLength(missing.length);
    expect([...doc.querySelectorAll('#images details.image[open]')].map((d) => d.id)).toEqual(['image-redis', 'image-minio', 'image-sbomify-app']);
    expect(doc.querySelector('#image-minio .problems')?.textContent).toBe('SBOM not recorded');

    const strict = await fixtureRelease('keyless', (m) => {
      m.images[1]!.attestations = [];
      delete m.images[1]!.verification;
      delete m.images[1]!.stages.attest;
      delete m.images[2]!.digest;
      delete m.images[2]!.stages.publish;
    });
    try {
      const err = await expectRefused(strict, 'INVALID_INPUT', /lacks 2 required facts/, { strict: true });
      expect(err.details).toEqual(['redis: signature: not signed: attestation stage has not run', 'minio: digest: not published: publish stage has not run']);
    } finally {
      await strict.cleanup();
    }
  });

  it('says when the repository has no web URL instead of guessing links', async () => {
    release = await fixtureRelease('keyless', (m) => {
      delete m.source.url;
    });
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const source = parsePage(indexHtml).getElementById('source')!;
    expect(source.textContent).toContain('release.json records no web URL for github.com/example-org/packages');
    expect(source.querySelectorAll('a')).toHaveLength(0);
  });
});

describe('hostile manifest strings', () => {
  it('come out as literal, inert text', async () => {
    release = await fixtureRelease('keyless', makeHostile);
    const { indexHtml } = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir });
    const doc = parsePage(indexHtml);
    expect(doc.querySelectorAll('script')).toHaveLength(1);
    expect(doc.querySelectorAll('img, iframe, object, embed')).toHaveLength(0);
    for (const el of doc.querySelectorAll('*')) {
      for (const attr of el.attributes) expect(attr.name.startsWith('on'), `${el.tagName} ${attr.name}`).toBe(false);
    }
    for (const a of doc.querySelectorAll('[href]')) expect(a.getAttribute('href')!.toLowerCase()).not.toMatch(/^\s*(javascript|data|vbscript):/);
    const text = doc.body.textContent!;
    for (const s of [HOSTILE.script, HOSTILE.attr.trim(), HOSTILE.mustache, HOSTILE.jsUrl, HOSTILE.mdLink, HOSTILE.html]) expect(text).toContain(s);
    // The homepage is a javascript: URL: shown as text, not linked.
    const homepage = [...doc.querySelectorAll('#image-postgres dt')].find((dt) => dt.textContent === 'Homepage')!.nextElementSibling!;
    expect(homepage.querySelector('a')).toBeNull();
    expect(homepage.textContent).toBe(HOSTILE.jsUrl);
    // The run URL is http(s): linked, with its quotes and brackets percent-encoded.
    expect(doc.querySelector('a[href^="https://evil.example/"]')!.getAttribute('href')).toBe('https://evil.example/%22%3E%3Cscript%3Ealert(1)%3C/script%3E');
    // Commands quote every value: the identity cannot run a command substitution.
    const cmd = [...doc.querySelectorAll('pre code')].map((c) => c.textContent!).find((c) => c.startsWith('cosign verify \\'))!;
    expect(cmd).toContain(`--certificate-identity 'https://github.com/x/y/.github/workflows/a.yml@refs/tags/v1'\\''$(touch /tmp/pwned)'\\'''`);
    const nix = [...doc.querySelectorAll('#reproducibility pre code')].map((c) => c.textContent!).find((c) => c.startsWith('nix build'))!;
    expect(nix).toContain(`'github:example-org/packages/3f6c2a9e8b1d4c7f0a5e2b9d6c3f8a1e4b7d0c25#postgres'\\''; rm -rf ~; echo '\\'''`);
  });
});

describe('bad input is refused before anything is written', () => {
  it('a manifest that fails the schema: SCHEMA_INVALID with the schema errors', async () => {
    release = await fixtureRelease('keyless', (m) => {
      (m as unknown as Record<string, unknown>).extra = true;
      m.images[0]!.digest = 'sha256:nothex';
    });
    const err = await expectRefused(release, 'SCHEMA_INVALID', /release\.json does not match the release manifest schema/);
    expect(err.details.join('\n')).toMatch(/\/images\/0\/digest: must match pattern/);
    expect(err.details.join('\n')).toMatch(/must NOT have additional properties/);
  });

  it('a missing manifest: NOT_FOUND naming it', async () => {
    release = await fixtureRelease('keyless');
    const err = await renderPage({ manifestPath: join(release.dir, 'nope.json'), outDir: release.outDir }).catch((e: unknown) => e);
    expect(isReleaseError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('nope.json');
    expect(await listFiles(release.outDir)).toEqual([]);
  });

  it('a manifest that is not JSON: INVALID_INPUT', async () => {
    release = await fixtureRelease('keyless');
    await writeFile(release.manifestPath, '{ not json');
    await expectRefused(release, 'INVALID_INPUT', /is not valid JSON/);
  });

  it('a path escaping the manifest directory through a symbolic link', async () => {
    release = await fixtureRelease('keyless');
    await symlink('/etc/passwd', join(release.dir, 'sbom', 'escape.json'));
    const raw = JSON.parse(await readFile(release.manifestPath, 'utf8'));
    raw.images[0].sbom.path = 'sbom/escape.json';
    await writeFile(release.manifestPath, JSON.stringify(raw));
    await expectRefused(release, 'INVALID_INPUT', /"sbom\/escape\.json" \(\/images\/0\/sbom\/path in .*\) resolves outside/);
  });

  it('a path with .. is refused by the schema', async () => {
    release = await fixtureRelease('keyless', (m) => {
      m.images[0]!.provenance!.path = '../../etc/passwd';
    });
    const err = await expectRefused(release, 'SCHEMA_INVALID', /does not match/);
    expect(err.details.join('\n')).toContain('/images/0/provenance/path');
  });

  it('a linked file that is missing: NOT_FOUND naming the path and field', async () => {
    release = await fixtureRelease('keyless', (m) => {
      m.images[3]!.attestations[1]!.bundlePath = 'attestations/gone.sigstore.json';
    });
    await expectRefused(release, 'NOT_FOUND', /"attestations\/gone\.sigstore\.json" named by \/images\/3\/attestations\/1\/bundlePath/);
  });

  it('a linked file whose digest differs from the manifest: DIGEST_MISMATCH', async () => {
    release = await fixtureRelease('keyless');
    await writeFile(join(release.dir, 'sbom', 'redis.cdx.json'), '{"tampered":true}\n');
    await expectRefused(release, 'DIGEST_MISMATCH', /"sbom\/redis\.cdx\.json" .* has digest sha256:[0-9a-f]{64}, the manifest records/);
  });

  it('a linked path that would overwrite the page itself', async () => {
    release = await fixtureRelease('keyless');
    await writeFile(join(release.dir, 'index.html'), 'x');
    const raw = JSON.parse(await readFile(release.manifestPath, 'utf8'));
    raw.images[0].sbom.path = 'index.html';
    await writeFile(release.manifestPath, JSON.stringify(raw));
    await expectRefused(release, 'INVALID_INPUT', /"index\.html" .* collides with a file the page writes/);
  });

  it('an image listed twice', async () => {
    release = await fixtureRelease('keyless', (m) => {
      m.images.push(structuredClone(m.images[0]!));
    });
    await expectRefused(release, 'INVALID_INPUT', /lists image "postgres" twice/);
  });

  it('a basePath that is not a plain path or http(s) URL', async () => {
    release = await fixtureRelease('keyless');
    for (const basePath of ['javascript:alert(1)//', '/a b/', '/x/../y', '/x"><script>']) {
      const err = await renderPage({ manifestPath: release.manifestPath, outDir: release.outDir, basePath }).catch((e: unknown) => e);
      expect(isReleaseError(err, 'INVALID_INPUT'), basePath).toBe(true);
      expect((err as Error).message).toContain(basePath);
    }
    expect(await listFiles(release.outDir)).toEqual([]);
  });
});
