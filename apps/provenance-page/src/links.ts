/**
 * Every URL the page links to is made here. Only http(s) URLs and relative
 * paths to the page's own files ever become links; anything else stays text,
 * so a manifest cannot smuggle `javascript:` or `data:` URLs into an href.
 */

/** The URL, normalised, when it is http(s); otherwise undefined. */
export function safeHttpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  return url.href;
}

/** A relative link to one of the page's own files: each path segment percent-encoded. */
export function relativeFileHref(relPath: string, basePath = ''): string {
  const encoded = relPath.split('/').map(encodeURIComponent).join('/');
  if (!basePath) return encoded;
  return basePath.endsWith('/') ? `${basePath}${encoded}` : `${basePath}/${encoded}`;
}

function trimRepoUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\.git$/, '');
}

function encodePath(path: string): string {
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .map(encodeURIComponent)
    .join('/');
}

/** Links into a repository's web view, for the forges whose URL layout is known. */
export interface RepoWeb {
  home: string;
  forge: string;
  commit(sha: string): string;
  tree(ref: string, path?: string): string;
  blob(ref: string, path: string): string;
}

/** Web links for GitHub and GitLab; undefined for a forge whose URL layout is not known. */
export function repoWeb(sourceUrl: string | undefined): RepoWeb | undefined {
  const safe = safeHttpUrl(sourceUrl);
  if (!safe) return undefined;
  const home = trimRepoUrl(safe);
  const host = new URL(home).hostname.toLowerCase();
  const withPath = (base: string, ref: string, path?: string) => {
    const p = path ? encodePath(path) : '';
    return `${base}/${encodeURIComponent(ref)}${p ? `/${p}` : ''}`;
  };
  if (host === 'github.com') {
    return {
      home,
      forge: 'GitHub',
      commit: (sha) => `${home}/commit/${encodeURIComponent(sha)}`,
      tree: (ref, path) => withPath(`${home}/tree`, ref, path),
      blob: (ref, path) => withPath(`${home}/blob`, ref, path),
    };
  }
  if (host === 'gitlab.com') {
    return {
      home,
      forge: 'GitLab',
      commit: (sha) => `${home}/-/commit/${encodeURIComponent(sha)}`,
      tree: (ref, path) => withPath(`${home}/-/tree`, ref, path),
      blob: (ref, path) => withPath(`${home}/-/blob`, ref, path),
    };
  }
  return undefined;
}

/** `owner/repo` of a github.com URL, for `gh attestation verify --repo`. */
export function githubRepoSlug(sourceUrl: string | undefined): string | undefined {
  const safe = safeHttpUrl(sourceUrl);
  if (!safe) return undefined;
  const url = new URL(trimRepoUrl(safe));
  if (url.hostname.toLowerCase() !== 'github.com') return undefined;
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_.-]+$/.test(p))) return undefined;
  return `${parts[0]}/${parts[1]}`;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** Registry host and repository path of `<host>[:port]/<path>`; undefined for `oci:` layouts. */
export function splitRepository(repository: string): { host: string; hostname: string; path: string } | undefined {
  if (repository.startsWith('oci:')) return undefined;
  const slash = repository.indexOf('/');
  if (slash <= 0) return undefined;
  const host = repository.slice(0, slash).toLowerCase();
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? host);
  return { host, hostname, path: repository.slice(slash + 1) };
}

export function isLocalRepository(repository: string): boolean {
  const parts = splitRepository(repository);
  return !parts || LOOPBACK.test(parts.hostname);
}

/**
 * The registry's web page for a repository, where it has one: GHCR packages
 * live under the owning GitHub repository, Docker Hub and Quay have their own
 * pages. Local registries and OCI layouts have none.
 */
export function registryWebUrl(repository: string, sourceUrl?: string): { href: string; site: string } | undefined {
  const parts = splitRepository(repository);
  if (!parts || LOOPBACK.test(parts.hostname)) return undefined;
  const segments = parts.path.split('/').filter(Boolean);
  if (!segments.every((s) => /^[a-z0-9._-]+$/.test(s))) return undefined;
  if (parts.host === 'ghcr.io' && segments.length >= 2) {
    const [owner, ...rest] = segments;
    // `ghcr.io/<owner>/<repo>/<image>` is the package `<repo>/<image>` of <owner>/<repo>.
    if (rest.length >= 2) {
      return {
        href: `https://github.com/${owner}/${rest[0]}/pkgs/container/${encodeURIComponent(rest.join('/'))}`,
        site: 'GitHub Container Registry',
      };
    }
    // A single-name package: its page is under the source repository when that has the same owner.
    const slug = githubRepoSlug(sourceUrl);
    if (slug && slug.split('/')[0]?.toLowerCase() === owner) {
      return { href: `https://github.com/${slug}/pkgs/container/${encodeURIComponent(rest[0]!)}`, site: 'GitHub Container Registry' };
    }
    return undefined;
  }
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(parts.host)) {
    if (segments.length === 2 && segments[0] === 'library') return { href: `https://hub.docker.com/_/${segments[1]}`, site: 'Docker Hub' };
    if (segments.length === 2) return { href: `https://hub.docker.com/r/${segments.join('/')}`, site: 'Docker Hub' };
    return undefined;
  }
  if (parts.host === 'quay.io' && segments.length === 2) {
    return { href: `https://quay.io/repository/${segments.join('/')}`, site: 'Quay' };
  }
  return undefined;
}

const PUBLIC_REKOR_HOSTS = new Set(['rekor.sigstore.dev']);

export function isPublicRekor(rekorUrl: string | undefined): boolean {
  const safe = safeHttpUrl(rekorUrl);
  return !!safe && PUBLIC_REKOR_HOSTS.has(new URL(safe).hostname.toLowerCase());
}

/**
 * Where a reader can look at a transparency log entry: the public instance has
 * a search UI; any other Rekor is linked to its entry API.
 */
export function rekorEntryUrl(rekorUrl: string | undefined, logIndex: number): string | undefined {
  const safe = safeHttpUrl(rekorUrl);
  if (!safe) return undefined;
  if (isPublicRekor(safe)) return `https://search.sigstore.dev/?logIndex=${logIndex}`;
  return `${safe.replace(/\/+$/, '')}/api/v1/log/entries?logIndex=${logIndex}`;
}

/** Link text for a CI run: the GitHub Actions run id when the URL shows one. */
export function runLinkText(runUrl: string): string {
  const m = /github\.com\/[^/]+\/[^/]+\/actions\/runs\/(\d+)/.exec(runUrl);
  return m ? `GitHub Actions run ${m[1]}` : 'workflow run';
}
