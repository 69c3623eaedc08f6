import { ReleaseError, sha256Digest } from '@nixrel/core';
import { LayoutStore } from './layout.js';
import { type Descriptor, EMPTY_JSON, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { parseImageRef, requireDigest } from './refs.js';
import type { RegistryOptions } from './registry.js';
import { sleep } from './retry.js';
import { bytesOf, type ImageStore } from './store.js';
import { openStore } from './target.js';

/**
 * OCI 1.1 referrers: artifacts (signatures, attestations, SBOMs) attached to
 * an image by a manifest whose `subject` is the image. Registries with the
 * referrers API list them natively; for the others (and OCI layouts) the
 * distribution spec's fallback is an index tagged `sha256-<hex>`, kept up to
 * date by read-modify-write. Registries may ignore If-Match, so a writer
 * re-reads after writing (and again after a short pause) and merges again if
 * another writer's update dropped its entry.
 */

const MAX_LAYER_BYTES = 64 << 20;
const ROUNDS = 12;

export interface ReferrerArtifact {
  artifactType: string;
  layerMediaType: string;
  data: Uint8Array;
  annotations?: Record<string, string>;
}

export interface ReferrerInfo {
  digest: string;
  mediaType: string;
  artifactType?: string;
  size: number;
  annotations: Record<string, string>;
}

async function ensureBlob(store: ImageStore, data: Uint8Array, mediaType: string): Promise<Descriptor> {
  const d: Descriptor = { mediaType, digest: sha256Digest(data), size: data.length };
  if (!(await store.hasBlob(d))) await store.putBlob(d, () => bytesOf(data));
  return d;
}

export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

async function readFallbackIndex(store: ImageStore, subject: string): Promise<Descriptor[]> {
  const tag = fallbackTag(subject);
  const m = await store.getManifest(tag);
  if (!m) return [];
  let index: { mediaType?: string; manifests?: Descriptor[] };
  try {
    index = JSON.parse(m.bytes.toString('utf8'));
  } catch (e) {
    throw new ReleaseError('REGISTRY_ERROR', `${store.name}:${tag} is not a JSON index`, { cause: e });
  }
  if ((index.mediaType ?? m.mediaType) !== OCI_INDEX || !Array.isArray(index.manifests)) {
    throw new ReleaseError('CONFLICT', `${store.name}:${tag} exists but is not an OCI image index of referrers`);
  }
  return index.manifests;
}

async function writeFallbackIndex(store: ImageStore, subject: string, manifests: Descriptor[]): Promise<void> {
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
  await store.putManifest(fallbackTag(subject), new TextEncoder().encode(JSON.stringify(index)), OCI_INDEX);
}

async function addToFallbackIndex(store: ImageStore, subject: string, desc: Descriptor): Promise<void> {
  // A layout's lock is exclusive across processes; a registry's tag is not, so confirm twice.
  const settle = store instanceof LayoutStore ? 0 : 1;
  await store.exclusive(`referrers:${subject}`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const current = await readFallbackIndex(store, subject);
      if (!current.some((m) => m.digest === desc.digest)) await writeFallbackIndex(store, subject, [...current, desc]);
      let stable = true;
      for (let check = 0; check <= settle; check++) {
        if (check > 0) await sleep(40 + Math.random() * 120);
        const after = await readFallbackIndex(store, subject);
        if (!after.some((m) => m.digest === desc.digest)) {
          stable = false;
          break;
        }
      }
      if (stable) return;
      store.logger.debug(`${store.name}: referrers index of ${subject} was overwritten concurrently; merging again`);
      await sleep(20 + Math.random() * 80 * (round + 1));
    }
    throw new ReleaseError('REGISTRY_ERROR', `could not add referrer ${desc.digest} to ${store.name}:${fallbackTag(subject)}: it kept being overwritten by other writers`);
  });
}

/** Attaches an artifact to `<repo>@sha256:…` (or `oci:<dir>@sha256:…`) as an OCI referrer. */
export async function attachReferrer(image: string, artifact: ReferrerArtifact, opts: RegistryOptions = {}): Promise<{ digest: string; size: number }> {
  const ref = parseImageRef(image);
  const subjectDigest = requireDigest(ref, image);
  if (!artifact.artifactType || !artifact.layerMediaType) {
    throw new ReleaseError('INVALID_INPUT', `referrer for ${image} needs an artifactType and a layer media type`);
  }
  const { store } = openStore(ref, opts);
  const subject = await store.resolve(subjectDigest);
  if (!subject) throw new ReleaseError('NOT_FOUND', `image ${image} not found; cannot attach to it`);
  const config = await ensureBlob(store, EMPTY_JSON, OCI_EMPTY);
  const layer = await ensureBlob(store, artifact.data, artifact.layerMediaType);
  const annotations = artifact.annotations && Object.keys(artifact.annotations).length > 0 ? artifact.annotations : undefined;
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: artifact.artifactType,
    config: { mediaType: OCI_EMPTY, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(annotations ? { annotations } : {}),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = sha256Digest(bytes);
  await store.putManifest(digest, bytes, OCI_MANIFEST);
  const desc: Descriptor = { mediaType: OCI_MANIFEST, digest, size: bytes.length, artifactType: artifact.artifactType, ...(annotations ? { annotations } : {}) };
  const native = await store.referrers(subjectDigest);
  if (native === undefined) await addToFallbackIndex(store, subjectDigest, desc);
  return { digest, size: bytes.length };
}

interface ArtifactManifest {
  artifactType?: string;
  config?: { mediaType?: string };
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

async function readArtifactManifest(store: ImageStore, digest: string): Promise<ArtifactManifest> {
  const m = await store.getManifest(digest);
  if (!m) throw new ReleaseError('NOT_FOUND', `referrer ${store.name}@${digest} not found`);
  try {
    return JSON.parse(m.bytes.toString('utf8')) as ArtifactManifest;
  } catch (e) {
    throw new ReleaseError('REGISTRY_ERROR', `referrer ${digest} is not a JSON manifest`, { cause: e });
  }
}

/** Referrers of an image, from the referrers API or the fallback index; both artifactType conventions accepted. */
export async function listReferrers(image: string, opts: RegistryOptions & { artifactType?: string } = {}): Promise<ReferrerInfo[]> {
  const ref = parseImageRef(image);
  const subject = requireDigest(ref, image);
  const { store } = openStore(ref, opts);
  const descs = (await store.referrers(subject, opts.artifactType)) ?? (await readFallbackIndex(store, subject));
  const out: ReferrerInfo[] = [];
  for (const d of descs) {
    let artifactType = d.artifactType;
    let annotations = d.annotations;
    if (!artifactType) {
      // Older writers put the type only in the manifest, or as the config media type.
      const m = await readArtifactManifest(store, d.digest);
      artifactType = m.artifactType ?? m.config?.mediaType;
      annotations ??= m.annotations;
    }
    if (opts.artifactType && artifactType !== opts.artifactType) continue;
    out.push({ digest: d.digest, mediaType: d.mediaType, ...(artifactType ? { artifactType } : {}), size: d.size, annotations: annotations ?? {} });
  }
  return out;
}

/** The first layer of a referrer, checked to belong to `image`. */
export async function fetchReferrerLayer(
  image: string,
  referrerDigest: string,
  opts: RegistryOptions = {},
): Promise<{ mediaType: string; data: Uint8Array; annotations: Record<string, string>; artifactType?: string }> {
  const ref = parseImageRef(image);
  const subject = requireDigest(ref, image);
  const { store } = openStore(ref, opts);
  const m = await readArtifactManifest(store, referrerDigest);
  if (m.subject?.digest !== subject) {
    throw new ReleaseError('INVALID_INPUT', `referrer ${referrerDigest} has subject ${m.subject?.digest ?? 'none'}, not ${subject}`);
  }
  const layer = m.layers?.[0];
  if (!layer) throw new ReleaseError('INVALID_INPUT', `referrer ${referrerDigest} has no layers`);
  const data = await store.getBlob(layer.digest, MAX_LAYER_BYTES);
  const artifactType = m.artifactType ?? m.config?.mediaType;
  return { mediaType: layer.mediaType, data: new Uint8Array(data), annotations: m.annotations ?? {}, ...(artifactType ? { artifactType } : {}) };
}
