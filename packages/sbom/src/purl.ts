/**
 * Package URLs for Nix-built packages, most specific first:
 *   1. the upstream purl nixpkgs declares (meta.identifiers.purl / purls),
 *   2. pkg:github/<owner>/<repo>@<rev> for sources fetched from GitHub,
 *   3. pkg:generic/<name>@<version>?download_url=...&checksum=sha256:... for other sources,
 *   4. pkg:nix/<name>@<version> when nothing about the source is known.
 * Why this order and this fallback: docs/adr/0003-sbom-purl-and-licence-rules.md.
 */
import type { DerivationInfo } from '@nixrel/core';
import { PackageURL } from 'packageurl-js';
import { resolveMirror } from './mirrors.js';
import { nixHashToHex } from './nix-hash.js';

export type PurlOrigin = 'declared' | 'github' | 'generic' | 'nix';

export interface PurlInput {
  name: string;
  version?: string;
  identifiers?: DerivationInfo['meta']['identifiers'];
  src?: DerivationInfo['src'];
}

/** A purl in canonical spelling, or undefined when the text is not a valid purl. */
export function canonicalPurl(text: string): string | undefined {
  try {
    return PackageURL.fromString(text).toString();
  } catch {
    return undefined;
  }
}

export interface GitHubSource {
  owner: string;
  repo: string;
  /** Tag or commit the source was fetched at, when the URL or the fetcher says so. */
  ref?: string;
}

// The URL shapes GitHub serves sources under (fetchFromGitHub, release assets, git clones).
const GITHUB_URLS: RegExp[] = [
  /^https?:\/\/github\.com\/([^/]+)\/([^/]+)\/archive\/(?:refs\/(?:tags|heads)\/)?(.+?)\.(?:tar\.gz|tar\.bz2|tar\.xz|tgz|zip)$/,
  /^https?:\/\/github\.com\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/[^/]+$/,
  /^https?:\/\/codeload\.github\.com\/([^/]+)\/([^/]+)\/(?:tar\.gz|zip|legacy\.tar\.gz)\/(?:refs\/(?:tags|heads)\/)?(.+)$/,
  /^https?:\/\/api\.github\.com\/repos\/([^/]+)\/([^/]+)\/(?:tarball|zipball)\/(.+)$/,
  /^(?:git\+)?(?:https?|git|ssh):\/\/(?:git@)?github\.com\/([^/]+)\/([^/?#]+?)(?:\.git)?\/?(?:[?#].*)?()$/,
];

/** Owner, repository and ref of a GitHub source, from the fetcher's fields or its URL. */
export function gitHubSource(src: DerivationInfo['src']): GitHubSource | undefined {
  if (!src) return undefined;
  for (const url of src.urls) {
    for (const shape of GITHUB_URLS) {
      const m = shape.exec(url);
      if (!m) continue;
      const ref = src.rev ?? (m[3] ? decodeURIComponent(m[3]) : undefined);
      return { owner: src.owner ?? m[1]!, repo: src.repo ?? m[2]!.replace(/\.git$/, ''), ...(ref ? { ref } : {}) };
    }
  }
  if (src.owner && src.repo && src.urls.length === 0) {
    return { owner: src.owner, repo: src.repo, ...(src.rev ? { ref: src.rev } : {}) };
  }
  return undefined;
}

function sourceChecksum(hash: string | undefined): string | undefined {
  if (!hash) return undefined;
  // Fetchers also record the bare hash (hex or Nix base32) with the algorithm apart.
  const spelled = /^[0-9a-z]{52}$|^[0-9a-f]{64}$/.test(hash) ? `sha256:${hash}` : hash;
  try {
    return `sha256:${nixHashToHex(spelled)}`;
  } catch {
    return undefined; // another algorithm (sha512, sha1): not worth a checksum qualifier
  }
}

export function derivePurl(input: PurlInput): { purl: string; origin: PurlOrigin } {
  const declared = [input.identifiers?.purl, ...(input.identifiers?.purls ?? [])];
  for (const candidate of declared) {
    const purl = candidate ? canonicalPurl(candidate) : undefined;
    if (purl) return { purl, origin: 'declared' };
  }
  const github = gitHubSource(input.src);
  if (github?.ref) {
    return { purl: new PackageURL('github', github.owner, github.repo, github.ref).toString(), origin: 'github' };
  }
  const first = input.src?.urls[0];
  if (first) {
    const url = resolveMirror(first);
    const qualifiers: Record<string, string> = { download_url: url };
    const checksum = sourceChecksum(input.src?.hash);
    if (checksum) qualifiers['checksum'] = checksum;
    return {
      purl: new PackageURL('generic', undefined, input.name, input.version, qualifiers).toString(),
      origin: 'generic',
    };
  }
  return { purl: new PackageURL('nix', undefined, input.name, input.version).toString(), origin: 'nix' };
}
