import type { ArtifactFormat, PublishedImage } from '@nixrel/core';
import { forEachBounded, ReleaseError, silentLogger } from '@nixrel/core';
import { layerRecords } from './archive.js';
import { configDescriptor, layerDescriptor } from './image.js';
import { type ArtifactIdentity, artifactIdentity, sameIdentity } from './image-cache.js';
import { type LoadOptions, loadImage } from './load-image.js';
import type { Descriptor } from './media-types.js';
import type { RegistryOptions } from './registry.js';
import { putBytes } from './store.js';
import { checkTagsFree, tagManifest } from './tags.js';
import { openStore } from './target.js';

export interface PushOptions extends RegistryOptions, Pick<LoadOptions, 'cache' | 'onRead' | 'parallelHash'> {
  tags?: string[];
  /** Parallel uploads when layers can be read by byte range (uncompressed archive on disk). */
  concurrency?: number;
  /** Registry: read back and hash every blob already there instead of trusting a HEAD (a layout always does). Default: NIXREL_REGISTRY_VERIFY_BLOBS=1. */
  verifyBlobs?: boolean;
}


/** Whether registry blobs are read back and hashed rather than trusted from a HEAD request. */
export function fullBlobChecks(opts: { env?: NodeJS.ProcessEnv }, explicit?: boolean): boolean {
  return explicit ?? (opts.env ?? process.env).NIXREL_REGISTRY_VERIFY_BLOBS === '1';
}

/** Fails, before any manifest is written, when the artifact is no longer the file whose layers were hashed. */
async function assertUnchanged(path: string, hashed: ArtifactIdentity | undefined, cause?: unknown): Promise<void> {
  if (!hashed) return;
  const now = await artifactIdentity(path).catch(() => undefined);
  if (!now || !sameIdentity(now, hashed)) {
    throw new ReleaseError('ARCHIVE_ERROR', `${path} changed while it was being pushed; no manifest was written`, cause === undefined ? {} : { cause });
  }
}

/**
 * Pushes one image artifact to a registry repository or an OCI layout:
 * reads and checks the whole artifact first (nothing is written for a bad
 * one), uploads only the blobs the target lacks, puts the manifest by digest,
 * and only then adds tags (never moving one). An artifact read before and
 * unchanged since is not read again (see image-cache.ts): a re-push is then
 * only HEAD requests, and a blob the target lacks is read by range and
 * checked against its digest while it is uploaded.
 */
export async function pushImage(artifact: { path: string; format?: ArtifactFormat }, target: string, opts: PushOptions = {}): Promise<PublishedImage> {
  const logger = opts.logger ?? silentLogger;
  const { store, ref } = openStore(target, opts);
  const tags = [...new Set([...(ref.tag ? [ref.tag] : []), ...(opts.tags ?? [])])];
  // To a registry, the layers of a large archive on disk are uploaded while they are hashed; nothing is committed before the hashes are in.
  const { image, cached, hashedFile } = await loadImage(artifact, { ...opts, logger, deferLayerHashes: ref.kind === 'registry' });
  if (ref.digest && ref.digest !== image.digest) {
    throw new ReleaseError('DIGEST_MISMATCH', `${target} names ${ref.digest} but ${artifact.path} is ${image.digest}`);
  }
  logger.debug(`${artifact.path}: ${image.format}, ${image.layers.length} layers, ${image.digest}${cached ? ' (unchanged since last read)' : ''}`);
  await checkTagsFree(store, image.digest, tags);

  // One upload per distinct blob, even if a layer appears twice.
  const config = configDescriptor(image.config);
  const layerIndex = new Map<string, number>();
  image.layers.forEach((l, i) => {
    if (!layerIndex.has(l.digest)) layerIndex.set(l.digest, i);
  });
  const blobs: Descriptor[] = [config, ...[...layerIndex.keys()].map((d) => layerDescriptor(d, image.layers[layerIndex.get(d)!]!.size))];
  const missing: Descriptor[] = [];
  const damaged: Descriptor[] = [];
  const [manifestPresent] = await Promise.all([
    store.hasManifest(image.digest),
    forEachBounded(blobs, 8, async (d) => {
      const found = await store.checkBlob(d, { full: fullBlobChecks(opts, opts.verifyBlobs) });
      if (found.state === 'ok') return;
      if (found.state === 'corrupt') {
        // A damaged copy (a file changed on disk, a registry's storage) is stored again, then checked again.
        logger.warn(`${store.name}: blob ${d.digest} is damaged (${found.detail}); storing it again`);
        if (!(await store.discardBlob(d))) {
          throw new ReleaseError('DIGEST_MISMATCH', `${store.name} holds a damaged copy of blob ${d.digest} (${found.detail}) and refuses to delete it; its operator must remove it`);
        }
        damaged.push(d);
      } else if (await store.mountBlob(d)) return;
      missing.push(d);
    }, 'blob checks'),
  ]);
  const skipped = blobs.length - missing.length;
  let bytesUploaded = 0;
  const progress = (d: Descriptor) => {
    let sent = 0;
    return (n: number) => {
      sent += n;
      opts.onProgress?.({ layer: d.digest, bytes: sent, total: d.size });
    };
  };

  // Largest first: the longest upload bounds the wall time.
  const missingLayers = missing.filter((d) => d.digest !== config.digest).sort((a, b) => b.size - a.size);
  // Each layer byte is hashed once per push: here when it came from the cache,
  // by the store while uploading; else it was hashed moments ago, and a file
  // that kept its identity (checked below) still holds those bytes.
  const sourceChecked = hashedFile !== undefined;
  const upload = async (d: Descriptor, first?: AsyncIterable<Uint8Array>) => {
    const index = layerIndex.get(d.digest)!;
    logger.debug(`uploading layer ${index} ${d.digest} (${d.size} bytes)`);
    await store.putBlob(d, (attempt) => (attempt === 0 && first ? first : image.openLayer(index)), progress(d), { sourceChecked, commitAfter: image.layersVerified });
    bytesUploaded += d.size;
  };
  try {
    if (image.seekable) {
      await forEachBounded(missingLayers, opts.concurrency ?? 3, (d) => upload(d), 'layer uploads');
    } else if (missingLayers.length > 0) {
      // Gzipped archives and image streams are read once more, in order; a retry re-reads from the start.
      const byIndex = new Map(missingLayers.map((d) => [layerIndex.get(d.digest)!, d]));
      for await (const { index, body } of image.streamLayers([...byIndex.keys()])) await upload(byIndex.get(index)!, body);
    }
  } catch (e) {
    // A layer that is not what its config says stops the uploads: that is the error to report.
    await image.layersVerified;
    await assertUnchanged(artifact.path, hashedFile, e);
    throw e;
  }
  // Every layer, uploaded or already there, hashed to its diff_id before anything refers to it.
  await image.layersVerified;
  if (missingLayers.length > 0) await assertUnchanged(artifact.path, hashedFile);
  if (missing.some((d) => d.digest === config.digest)) {
    await putBytes(store, config, image.config);
    bytesUploaded += config.size;
  }
  await forEachBounded(damaged, 4, async (d) => {
    const again = await store.checkBlob(d, { full: true });
    if (again.state !== 'ok') {
      throw new ReleaseError('DIGEST_MISMATCH', `${store.name} still holds a damaged copy of blob ${d.digest} after it was stored again (${again.state === 'corrupt' ? again.detail : 'missing'}); its operator must remove it`);
    }
  });

  // A manifest already there (same digest, same bytes) is not sent again.
  if (!manifestPresent) await store.putManifest(image.digest, image.manifest, image.mediaType, { root: true });
  await tagManifest(store, image.digest, tags);
  logger.info(`pushed ${store.name}@${image.digest} (${bytesUploaded} bytes uploaded, ${skipped} blobs skipped)`);
  return {
    repository: store.name,
    digest: image.digest,
    mediaType: image.mediaType,
    configDigest: image.configDigest,
    layers: layerRecords(image.layers),
    tags,
    layerEncoding: 'uncompressed',
    bytesUploaded,
    blobsSkipped: skipped,
  };
}
