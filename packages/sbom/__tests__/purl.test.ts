import { describe, expect, test } from 'vitest';
import { resolveMirror } from '../src/mirrors.js';
import { canonicalPurl, derivePurl, gitHubSource } from '../src/purl.js';

const SRI = 'sha256-lZZ+WIcX91gCnUzPfAcRIfkrFZkjFFgNVEZik2MbGso=';
const HEX = '95967e588717f758029d4ccf7c071121f92b15992314580d54466293631b1aca';

describe('derivePurl', () => {
  test('a purl declared in meta.identifiers wins, canonicalised', () => {
    expect(
      derivePurl({
        name: 'openssl',
        version: '3.0.13',
        identifiers: { purl: 'pkg:generic/openssl@3.0.13' },
        src: { urls: ['https://github.com/openssl/openssl/archive/openssl-3.0.13.tar.gz'] },
      }),
    ).toEqual({ purl: 'pkg:generic/openssl@3.0.13', origin: 'declared' });
    expect(derivePurl({ name: 'x', identifiers: { purls: ['pkg:GitHub/Foo/Bar@1.0'] } })).toEqual({
      purl: 'pkg:github/foo/bar@1.0',
      origin: 'declared',
    });
  });

  test('an invalid declared purl is ignored', () => {
    expect(derivePurl({ name: 'x', version: '1', identifiers: { purl: 'not a purl' } }).origin).toBe('nix');
  });

  test.each([
    ['https://github.com/NixOS/patchelf/archive/0.18.0.tar.gz', 'pkg:github/nixos/patchelf@0.18.0'],
    ['https://github.com/curl/curl/archive/refs/tags/curl-8_5_0.tar.gz', 'pkg:github/curl/curl@curl-8_5_0'],
    ['https://github.com/jqlang/jq/releases/download/jq-1.7.1/jq-1.7.1.tar.gz', 'pkg:github/jqlang/jq@jq-1.7.1'],
    ['https://codeload.github.com/owner/repo/tar.gz/v2.0', 'pkg:github/owner/repo@v2.0'],
    ['https://api.github.com/repos/owner/repo/tarball/abc123', 'pkg:github/owner/repo@abc123'],
  ])('GitHub source %s -> %s', (url, purl) => {
    expect(derivePurl({ name: 'n', version: '1', src: { urls: [url] } })).toEqual({ purl, origin: 'github' });
  });

  test('fetchFromGitHub fields (owner, repo, rev) give the commit', () => {
    const src = { urls: ['https://github.com/redis/redis/archive/7f2c1b3.tar.gz'], owner: 'redis', repo: 'redis', rev: '7f2c1b3e' };
    expect(derivePurl({ name: 'redis', version: '7.2.4', src }).purl).toBe('pkg:github/redis/redis@7f2c1b3e');
    expect(gitHubSource(src)).toEqual({ owner: 'redis', repo: 'redis', ref: '7f2c1b3e' });
  });

  test('a git clone URL without a rev is not enough for pkg:github', () => {
    const src = { urls: ['https://github.com/owner/repo.git'] };
    expect(gitHubSource(src)).toEqual({ owner: 'owner', repo: 'repo' });
    expect(derivePurl({ name: 'repo', version: '1.0', src }).origin).toBe('generic');
    expect(derivePurl({ name: 'repo', version: '1.0', src: { ...src, rev: 'deadbeef' } }).purl).toBe('pkg:github/owner/repo@deadbeef');
  });

  test('other sources give pkg:generic with download_url and a hex sha256 checksum', () => {
    const { purl, origin } = derivePurl({ name: 'zlib', version: '1.3.1', src: { urls: ['https://zlib.net/zlib-1.3.1.tar.gz'], hash: SRI } });
    expect(origin).toBe('generic');
    expect(purl).toBe(`pkg:generic/zlib@1.3.1?checksum=sha256%3A${HEX}&download_url=https%3A%2F%2Fzlib.net%2Fzlib-1.3.1.tar.gz`);
  });

  test('a bare Nix base32 source hash is understood; other algorithms are left out', () => {
    const nix32 = '1jhs3dir6qj6ah6mh513k4ajpy91243prksckl15ixqphxc7x5lm';
    expect(derivePurl({ name: 'a', version: '1', src: { urls: ['https://x.org/a.tgz'], hash: nix32 } }).purl).toContain(`checksum=sha256%3A${HEX}`);
    expect(derivePurl({ name: 'a', version: '1', src: { urls: ['https://x.org/a.tgz'], hash: 'sha512-AAAA' } }).purl).not.toContain('checksum');
  });

  test('nixpkgs mirror:// URLs are resolved to a real download URL', () => {
    expect(resolveMirror('mirror://gnu/hello/hello-2.12.1.tar.gz')).toBe('https://ftpmirror.gnu.org/hello/hello-2.12.1.tar.gz');
    expect(resolveMirror('mirror://unknown-site/x.tar.gz')).toBe('mirror://unknown-site/x.tar.gz');
    expect(derivePurl({ name: 'hello', version: '2.12.1', src: { urls: ['mirror://gnu/hello/hello-2.12.1.tar.gz'] } }).purl).toContain(
      'download_url=https%3A%2F%2Fftpmirror.gnu.org%2Fhello%2Fhello-2.12.1.tar.gz',
    );
  });

  test('nothing known about the source: pkg:nix fallback, with or without a version', () => {
    expect(derivePurl({ name: 'hello', version: '2.12.1' })).toEqual({ purl: 'pkg:nix/hello@2.12.1', origin: 'nix' });
    expect(derivePurl({ name: 'config.json' })).toEqual({ purl: 'pkg:nix/config.json', origin: 'nix' });
    expect(derivePurl({ name: 'x', version: '1', src: { urls: [] } }).origin).toBe('nix');
  });

  test('odd characters in names and versions are percent-encoded and round-trip', () => {
    const { purl } = derivePurl({ name: 'foo bar+baz', version: '1.0-rc1+git@x?y#z' });
    expect(purl).toBe('pkg:nix/foo%20bar%2Bbaz@1.0-rc1+git%40x%3Fy%23z');
    expect(canonicalPurl(purl)).toBe(purl);
  });
});
