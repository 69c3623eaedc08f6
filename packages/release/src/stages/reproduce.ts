import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ImageRecord, ReleaseError, type ReproducibilityRecord } from '@nixrel/core';
import { parseNixJson, runNix } from '@nixrel/nix';
import { computeImage } from '@nixrel/oci';
import type { Stage } from './stage.js';

/**
 * An independent rebuild: Nix builds the image, and everything in it, again in
 * a fresh store of its own (`--store <temporary dir>`, a chroot store), and
 * the digest is recomputed from that output without pushing. Differing layers
 * are named with the store path each holds.
 *
 * Not `nix build --rebuild`: it re-runs only the named derivation against the
 * inputs already in the store, so a non-deterministic package inside the
 * image goes unnoticed (the image derivation re-packs the same store paths).
 * When the named derivation itself differs, Nix 2.8 fails with
 * "derivation '<drv>' may not be deterministic: output '<out>' differs" (plus
 * "from '<out>.check'" with --keep-failed, which also leaves the build
 * directory in /tmp). A separate store rebuilds every path no substituter
 * provides: a binary cache of this project's own outputs must not be
 * configured for this check, or those paths would be fetched, not rebuilt.
 */
export async function reproduceImage(
  record: ImageRecord,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; installable?: string },
): Promise<ReproducibilityRecord> {
  if (!record.build || !record.digest || !record.outPath) {
    throw new ReleaseError('INVALID_INPUT', `${record.name}: cannot reproduce an image that was not built and published`);
  }
  const checkedAt = new Date().toISOString();
  const installable = opts.installable ?? record.build.installable;
  const store = await mkdtemp(join(tmpdir(), 'nixrel-rebuild-'));
  try {
    const what = `nix build --store ${store} ${installable}`;
    const { stdout } = await runNix(['build', '--json', '--no-link', '--store', store, installable], { ...opts, what });
    // Another output path than the release's means other inputs (another checkout): it is compared all the same.
    const rebuilt = parseNixJson<{ outputs: { out?: string } }[]>(stdout, what)[0]?.outputs.out;
    if (!rebuilt) throw new ReleaseError('NIX_ERROR', `${what} printed no output path`);
    const image = await computeImage({ path: join(store, rebuilt), format: record.format });
    const storePaths = layerStorePaths(image.config);
    const differingLayers: ReproducibilityRecord['differingLayers'] = [];
    for (let i = 0; i < Math.max(record.layers.length, image.layers.length); i++) {
      const expected = record.layers[i]?.digest ?? 'absent';
      const actual = image.layers[i]?.digest ?? 'absent';
      const storePath = storePaths[i];
      if (expected !== actual) differingLayers.push({ index: i, expected, actual, ...(storePath ? { storePath } : {}) });
    }
    return { checkedAt, rebuiltDigest: image.digest, match: image.digest === record.digest, differingLayers };
  } finally {
    await removeStore(store);
  }
}

/** The store path each layer holds, from the `store paths: ['…']` history comments Nix image builders write. */
function layerStorePaths(config: Uint8Array): (string | undefined)[] {
  const history = (JSON.parse(Buffer.from(config).toString('utf8')) as { history?: { comment?: string; empty_layer?: boolean }[] }).history ?? [];
  return history.filter((h) => !h.empty_layer).map((h) => /^store paths: \['([^']+)'\]$/.exec(h.comment ?? '')?.[1]);
}

/** Store paths are read-only: make them writable first, or a non-root user cannot delete the store. */
async function removeStore(dir: string): Promise<void> {
  await promisify(execFile)('chmod', ['-R', 'u+w', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** Reproduce, in a release with `--reproduce`: the rebuilt digest and whether it matches. */
export const reproduceStage: Stage<void> = {
  name: 'reproduce',
  inputs: (_ctx, record) => ({ outPath: record.outPath, digest: record.digest }),
  outputsPresent: (_ctx, record) => record.reproducibility !== undefined,
  async run(ctx, record) {
    record.reproducibility = await reproduceImage(record, { env: ctx.nixEnv, cwd: ctx.opts.repoRoot });
  },
};
