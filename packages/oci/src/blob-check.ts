import { forEachBounded, isReleaseError, ReleaseError } from '@nixrel/core';
import type { Descriptor } from './media-types.js';
import { fullBlobChecks } from './push.js';
import type { RegistryOptions } from './registry.js';
import { openStore } from './target.js';

/**
 * Whether an image is whole in a target: its manifest, config and every layer
 * present and hashing to their digests. What a resumed release checks before
 * trusting an earlier publish, and what verification can call to know that
 * the image it verifies can still be pulled. In an OCI layout every blob is
 * read and hashed; in a registry a HEAD request answers for presence, size and
 * the digest the registry states, and `full` reads each blob back and hashes
 * it.
 */
export interface BlobProblem {
  role: 'manifest' | 'config' | 'layer';
  digest: string;
  size?: number;
  problem: 'missing' | 'corrupt';
  detail?: string;
}

export interface ImageBlobsCheck {
  /** `<target>@<digest>`. */
  image: string;
  ok: boolean;
  /** Blobs checked, manifest included. */
  checked: number;
  problems: BlobProblem[];
}

export interface CheckBlobsOptions extends RegistryOptions {
  /** Registry: read every blob back and hash it (a layout always does). Default: NIXREL_REGISTRY_VERIFY_BLOBS=1. */
  full?: boolean;
}


export async function checkImageBlobs(target: string, digest: string, opts: CheckBlobsOptions = {}): Promise<ImageBlobsCheck> {
  const { store } = openStore(target, opts);
  const image = `${store.name}@${digest}`;
  const result = (problems: BlobProblem[], checked: number): ImageBlobsCheck => ({ image, ok: problems.length === 0, checked, problems });
  let manifest: Awaited<ReturnType<typeof store.getManifest>>;
  try {
    manifest = await store.getManifest(digest);
  } catch (e) {
    if (isReleaseError(e, 'DIGEST_MISMATCH') || isReleaseError(e, 'INVALID_INPUT') || isReleaseError(e, 'NETWORK_ERROR')) {
      return result([{ role: 'manifest', digest, problem: 'corrupt', detail: (e as Error).message }], 1);
    }
    throw e;
  }
  if (!manifest) return result([{ role: 'manifest', digest, problem: 'missing' }], 1);
  let parsed: { config?: Descriptor; layers?: Descriptor[] };
  try {
    parsed = JSON.parse(manifest.bytes.toString('utf8'));
  } catch (e) {
    throw new ReleaseError('INVALID_INPUT', `${image} is not a JSON image manifest`, { cause: e });
  }
  if (!parsed.config || !Array.isArray(parsed.layers)) throw new ReleaseError('INVALID_INPUT', `${image} is not an image manifest (no config and layers)`);
  const blobs = new Map<string, { role: 'config' | 'layer'; d: Descriptor }>();
  blobs.set(parsed.config.digest, { role: 'config', d: parsed.config });
  for (const l of parsed.layers) if (!blobs.has(l.digest)) blobs.set(l.digest, { role: 'layer', d: l });
  const problems: BlobProblem[] = [];
  await forEachBounded([...blobs.values()], 4, async ({ role, d }) => {
    const s = await store.checkBlob(d, { full: fullBlobChecks(opts, opts.full) });
    if (s.state !== 'ok') problems.push({ role, digest: d.digest, size: d.size, problem: s.state, ...(s.state === 'corrupt' ? { detail: s.detail } : {}) });
  });
  return result(problems, blobs.size + 1);
}

/** One line per problem, for messages and logs. */
export function describeBlobProblems(check: ImageBlobsCheck): string[] {
  return check.problems.map((p) => `${p.role} ${p.digest}: ${p.problem}${p.detail ? ` (${p.detail})` : ''}`);
}
