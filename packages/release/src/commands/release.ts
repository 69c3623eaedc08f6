/**
 * `pnpm release [--collection C] [--images a,b] [--registry REF] [--signer keyless|key]
 *  [signer flags] [--version V] [--reproduce] [--dry-run] [--json]`
 * Cuts a whole release on this machine and ends with the path of its page.
 */
import { ReleaseError, toJson } from '@nixrel/core';
import { computeImage } from '@nixrel/oci';
import { type Command, displayPath } from '../cli-context.js';
import { cutRelease } from '../cut-release.js';
import { imageRepository, prepareRelease } from '../release-context.js';
import { buildRelease } from '../stages/build.js';
import { resolveVersion } from '../versioning.js';
import { parseReleaseArgs, releaseOptions } from './release-args.js';

export const USAGE =
  'usage: pnpm release [--collection C] [--images a,b] [--registry REF] [--signer keyless|key] [--key FILE] ' +
  '[--fulcio-url URL] [--rekor-url URL] [--tsa-url URL] [--trusted-root FILE] [--identity-token T | --identity-token-file F] ' +
  '[--certificate-identity ID | --certificate-identity-regexp RE] [--certificate-oidc-issuer ISS] ' +
  '[--version V] [--concurrency N] [--out DIR] [--reproduce] [--wait] [--dry-run] [--json]';

export const run: Command = async (args, ctx) => {
  const { values, positionals } = parseReleaseArgs(args, USAGE);
  if (positionals.length > 0) throw new ReleaseError('USAGE', `unexpected argument "${positionals[0]}"\n${USAGE}`);
  const opts = releaseOptions(values, ctx);

  if (values['dry-run']) {
    // Build and compute every digest, publish and sign nothing.
    const base = await prepareRelease(opts);
    const outcome = await buildRelease(base);
    const version = await resolveVersion(base, new Map(outcome.artifacts.map((a) => [a.name, a.version])));
    const images = [];
    for (const a of outcome.artifacts) {
      const image = await computeImage({ path: a.outPath, format: a.format });
      images.push({ name: a.name, version: a.version, repository: imageRepository(base.registry, a.name), digest: image.digest, layers: image.layers.length });
    }
    opts.progress.close();
    if (values.json) ctx.out(toJson({ dryRun: true, collection: opts.collection, version, images }));
    else {
      ctx.out(`dry run: release ${version} of ${opts.collection} would publish:`);
      for (const i of images) ctx.out(`  ${i.repository}@${i.digest}  (${i.version}, ${i.layers} layers)`);
    }
    return;
  }

  try {
    const result = await cutRelease(opts);
    opts.progress.close();
    if (values.json) {
      ctx.out(
        toJson({
          version: result.version,
          manifest: result.manifestPath,
          page: result.pageDir,
          slsa: result.manifest.slsa,
          signer: result.manifest.signer,
          images: result.manifest.images.map((i) => ({
            name: i.name,
            repository: i.repository,
            digest: i.digest,
            tags: i.tags,
            sbom: i.sbom?.path,
            verified: i.verification?.ok ?? false,
            reproducible: i.reproducibility?.match,
          })),
        }),
      );
      return;
    }
    const m = result.manifest;
    ctx.out(`release ${m.version} of ${m.collection}: ${m.images.length} images, signed ${m.signer.mode === 'key' ? `with a local key ${m.signer.keyFingerprint} (NOT keyless)` : `keylessly as ${m.signer.identity}`}, SLSA Build L${m.slsa.level}`);
    for (const i of m.images) {
      const repro = i.reproducibility ? (i.reproducibility.match ? ', reproduced' : ', NOT reproducible') : '';
      ctx.out(`  ${i.repository}@${i.digest}  verified${repro}`);
    }
    ctx.out(`manifest: ${displayPath(ctx, result.manifestPath)}`);
    ctx.out(`page: ${displayPath(ctx, result.pageDir)}/index.html`);
  } finally {
    opts.progress.close();
  }
};
