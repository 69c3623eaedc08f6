import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatCommand, shellQuote, signerWorkflow, sourceFlakeRef } from '../src/commands.js';
import { githubRepoSlug, registryWebUrl, rekorEntryUrl, relativeFileHref, repoWeb, safeHttpUrl } from '../src/links.js';

describe('safeHttpUrl', () => {
  it('keeps http(s) and refuses every other scheme and credentials', () => {
    expect(safeHttpUrl('https://example.org/a b')).toBe('https://example.org/a%20b');
    expect(safeHttpUrl('http://127.0.0.1:3000/x')).toBe('http://127.0.0.1:3000/x');
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', '//evil.example', 'https://user:pw@example.org/', 'not a url', '']) {
      expect(safeHttpUrl(bad), bad).toBeUndefined();
    }
  });

  it('relative file links encode each segment', () => {
    expect(relativeFileHref('sbom/a b#c.json')).toBe('sbom/a%20b%23c.json');
    expect(relativeFileHref('sbom/x.json', '/r/v1')).toBe('/r/v1/sbom/x.json');
  });
});

describe('registryWebUrl', () => {
  it('links GHCR packages under their repository, Docker Hub and Quay to their pages', () => {
    expect(registryWebUrl('ghcr.io/wellmaintained/packages/postgres')).toEqual({
      href: 'https://github.com/wellmaintained/packages/pkgs/container/packages%2Fpostgres',
      site: 'GitHub Container Registry',
    });
    expect(registryWebUrl('ghcr.io/acme/tool', 'https://github.com/acme/tools')?.href).toBe('https://github.com/acme/tools/pkgs/container/tool');
    expect(registryWebUrl('ghcr.io/acme/tool', 'https://github.com/other/tools')).toBeUndefined();
    expect(registryWebUrl('docker.io/library/redis')?.href).toBe('https://hub.docker.com/_/redis');
    expect(registryWebUrl('docker.io/acme/redis')?.href).toBe('https://hub.docker.com/r/acme/redis');
    expect(registryWebUrl('quay.io/acme/redis')?.href).toBe('https://quay.io/repository/acme/redis');
  });

  it('gives no link for local registries, OCI layouts and unknown hosts', () => {
    for (const repo of ['127.0.0.1:5000/packages/postgres', 'localhost:5000/x/y', 'oci:.release/oci/postgres', 'registry.example.org/a/b']) {
      expect(registryWebUrl(repo), repo).toBeUndefined();
    }
  });
});

describe('rekorEntryUrl', () => {
  it('uses the search UI for the public instance and the entry API otherwise', () => {
    expect(rekorEntryUrl('https://rekor.sigstore.dev', 42)).toBe('https://search.sigstore.dev/?logIndex=42');
    expect(rekorEntryUrl('http://127.0.0.1:4000/', 7)).toBe('http://127.0.0.1:4000/api/v1/log/entries?logIndex=7');
    expect(rekorEntryUrl(undefined, 7)).toBeUndefined();
  });
});

describe('source links', () => {
  it('derives GitHub and GitLab file links, none for unknown forges', () => {
    const gh = repoWeb('https://github.com/o/r.git/')!;
    expect(gh.blob('abc', 'examples/flake.nix')).toBe('https://github.com/o/r/blob/abc/examples/flake.nix');
    expect(gh.tree('v1/x')).toBe('https://github.com/o/r/tree/v1%2Fx');
    expect(repoWeb('https://gitlab.com/g/p')!.commit('abc')).toBe('https://gitlab.com/g/p/-/commit/abc');
    expect(repoWeb('https://git.example.org/o/r')).toBeUndefined();
    expect(githubRepoSlug('https://github.com/o/r')).toBe('o/r');
    expect(githubRepoSlug('https://github.com/o/r/tree/main')).toBeUndefined();
  });

  it('makes flake references to the release commit', () => {
    expect(sourceFlakeRef(undefined, 'o/r', 'c0ffee', 'examples')).toBe('github:o/r/c0ffee?dir=examples');
    expect(sourceFlakeRef('https://gitlab.com/g/p', undefined, 'c0ffee', '.')).toBe('git+https://gitlab.com/g/p?rev=c0ffee');
    expect(sourceFlakeRef(undefined, undefined, 'c0ffee', '.')).toBeUndefined();
  });

  it('reads the signer workflow from a GitHub Actions identity', () => {
    expect(signerWorkflow('https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1')).toBe('o/r/.github/workflows/release.yml');
    expect(signerWorkflow('someone@example.org')).toBeUndefined();
  });
});

describe('shell quoting', () => {
  it('round-trips any value through a real shell', () => {
    const values = ["it's", '$(touch /tmp/x)', '`id`', 'a b\tc', 'new\nline', '"q"', '\\', '*', 'plain-value_1.2:3@x'];
    for (const v of values) {
      const out = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(v)}`], { encoding: 'utf8' });
      expect(out, v).toBe(v);
    }
  });

  it('joins words with line continuations the shell accepts', () => {
    const cmd = formatCommand([['printf', '%s|'], "it's", ['--flag', 'a b']]);
    expect(cmd).toBe("printf '%s|' \\\n  'it'\\''s' \\\n  --flag 'a b'");
    expect(execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' })).toBe("it's|--flag|a b|");
  });
});
