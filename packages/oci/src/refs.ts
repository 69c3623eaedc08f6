import { isSha256Digest, isValidRepositoryPath, isValidTag, ReleaseError, registerSecret } from '@nixrel/core';

/** A parsed image reference: a repository in a registry, or an OCI layout directory. */
export type ImageRef =
  | { kind: 'registry'; registry: string; repository: string; tag?: string; digest?: string; name: string }
  | { kind: 'layout'; dir: string; tag?: string; digest?: string; name: string };

const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;

function invalid(ref: string, why: string): ReleaseError {
  return new ReleaseError('INVALID_INPUT', `invalid image reference "${ref}": ${why}`);
}

/** `user:password@` (or `token@`) before the host, with or without a URL scheme. */
const USERINFO = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^/@]*)@(?=[^/]*(?:\/|$))/i;

/**
 * Credentials never travel in a reference: a reference ends up in logs, shell
 * history, release.json and the page. Refused without echoing them.
 */
function refuseCredentials(ref: string): void {
  const m = USERINFO.exec(ref);
  if (!m) return;
  const userinfo = m[2]!;
  registerSecret(userinfo);
  const colon = userinfo.indexOf(':');
  if (colon >= 0 && colon < userinfo.length - 1) registerSecret(userinfo.slice(colon + 1));
  const shown = `${m[1]}***@${ref.slice(m[0].length)}`;
  throw new ReleaseError(
    'INVALID_INPUT',
    `invalid image reference "${shown}": credentials do not belong in a reference; put them in a docker config (docker login, ~/.docker/config.json or $DOCKER_CONFIG), a containers auth file (REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json) or, for ghcr.io, GITHUB_TOKEN`,
  );
}

/**
 * `oci:<dir>[:<tag>|@<digest>]` or `<host>[:port]/<repo>[:<tag>][@<digest>]`.
 * The host is required: images are always pushed somewhere explicit.
 */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(String(ref), 'empty');
  if (!ref.startsWith('oci:')) refuseCredentials(ref);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSha256Digest(digest)) throw invalid(ref, `digest "${digest}" is not sha256:<64 lowercase hex>`);
  }
  if (rest.startsWith('oci:')) {
    let dir = rest.slice(4);
    let tag: string | undefined;
    const colon = dir.lastIndexOf(':');
    if (colon > dir.lastIndexOf('/') && colon >= 0) {
      tag = dir.slice(colon + 1);
      dir = dir.slice(0, colon);
    }
    if (!dir) throw invalid(ref, 'no directory after "oci:"');
    if (tag !== undefined && !isValidTag(tag)) throw invalid(ref, `tag "${tag}" does not match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
    return { kind: 'layout', dir, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}), name: `oci:${dir}` };
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw invalid(ref, 'expected <host>[:port]/<repository>[:tag][@digest] or oci:<dir>[:tag]');
  const registry = rest.slice(0, slash);
  let repository = rest.slice(slash + 1);
  if (!HOST.test(registry) || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw invalid(ref, `"${registry}" is not a registry host (expected e.g. ghcr.io or 127.0.0.1:5000)`);
  }
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!isValidTag(tag)) throw invalid(ref, `tag "${tag}" does not match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  }
  if (!isValidRepositoryPath(repository)) {
    throw invalid(ref, `repository "${repository}" must be lowercase path components separated by '/' (OCI name grammar)`);
  }
  return { kind: 'registry', registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}), name: `${registry}/${repository}` };
}

/** The digest part of a reference, required. */
export function requireDigest(ref: ImageRef, original: string): string {
  if (!ref.digest) throw new ReleaseError('INVALID_INPUT', `image reference "${original}" must name a digest (…@sha256:<hex>)`);
  return ref.digest;
}
