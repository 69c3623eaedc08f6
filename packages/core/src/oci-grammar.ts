import { ReleaseError } from './errors.js';

// From the OCI distribution spec: repository path components and tags.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Longest image name: every image gets the tag `<name>-<version>-<sha7>`, and a
 * tag has at most 128 characters, so a name this long still leaves room for a version.
 */
export const MAX_IMAGE_NAME = 64;

/** A single path component, e.g. an image name such as `sbomify-app`. */
export function isValidImageName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_IMAGE_NAME && PATH_COMPONENT.test(name);
}

/** A repository path such as `wellmaintained/packages/postgres` (no host). */
export function isValidRepositoryPath(path: string): boolean {
  return path.length > 0 && path.length <= 255 && path.split('/').every((c) => PATH_COMPONENT.test(c));
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isSha256Digest(digest: string): boolean {
  return SHA256_DIGEST.test(digest);
}

export function assertImageName(name: string): void {
  if (name.length > MAX_IMAGE_NAME) {
    throw new ReleaseError('INVALID_INPUT', `invalid image name "${name}": ${name.length} characters, at most ${MAX_IMAGE_NAME} (its tag <name>-<version>-<commit> must fit 128)`);
  }
  if (!isValidImageName(name)) {
    throw new ReleaseError(
      'INVALID_INPUT',
      `invalid image name "${name}": use lowercase letters and digits, separated by single '.', '_', '__' or '-' (OCI name grammar)`,
    );
  }
}

export function assertTag(tag: string): void {
  if (!isValidTag(tag)) {
    throw new ReleaseError('INVALID_INPUT', `invalid tag "${tag}": 1-128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'`);
  }
}
