import { resolve } from 'node:path';
import { type ArtifactFormat, type ImageArtifact, type ImageMetadata, type ImageSpec, type Logger, ReleaseError } from '@nixrel/core';
import { build, currentNixSystem, evalJson, nixEnvFor } from '@nixrel/nix';

/** What a flake's `imageMetadata.<system>.<name>` evaluates to. */
interface EvaluatedImage {
  name: string;
  version: string;
  metadata: ImageMetadata;
  format: ArtifactFormat;
  /** Out path of the image. */
  artifact: string;
  /** Out path of the SBOM input derivation (ClosureExport JSON). */
  closure: string;
}

const FORMATS: readonly ArtifactFormat[] = ['docker-archive', 'docker-archive+gzip', 'docker-stream'];

export interface BuildOptions {
  repoRoot: string;
  logger: Logger;
  /** Build again with `nix build --rebuild` and fail when an image is not bit-for-bit reproducible. */
  rebuild?: boolean;
  /** Environment for nix; RELEASE_NIX_OFFLINE=1 in it adds the offline settings. */
  env?: NodeJS.ProcessEnv;
  /** Nix system to build for; defaults to this machine's. */
  system?: string;
}

/**
 * `path:` rather than a git flake reference: a git flake only sees files that
 * are `git add`ed, so an image folder just made by `pnpm new-image` would be
 * invisible. A path flake sees the working tree as it is.
 */
export function flakeRef(repoRoot: string, flake: string): string {
  return `path:${resolve(repoRoot, flake)}`;
}

function groupByFlake(specs: ImageSpec[]): Map<string, ImageSpec[]> {
  const groups = new Map<string, ImageSpec[]>();
  for (const spec of specs) groups.set(spec.flake, [...(groups.get(spec.flake) ?? []), spec]);
  return groups;
}

// Nix attribute set naming the wanted images, for builtins.intersectAttrs; the
// names passed the OCI grammar, so JSON quoting is valid Nix quoting.
function pickApply(specs: ImageSpec[]): string {
  return `m: builtins.intersectAttrs { ${specs.map((s) => `${JSON.stringify(s.attribute)} = null;`).join(' ')} } m`;
}

function checkEvaluated(spec: ImageSpec, value: EvaluatedImage | undefined, where: string): EvaluatedImage {
  if (!value) throw new ReleaseError('NOT_FOUND', `image "${spec.name}" (${spec.packageDir}) is missing from ${where}`);
  const bad = (field: string) => new ReleaseError('INVALID_INPUT', `${where}.${spec.attribute}: "${field}" is missing or malformed`);
  if (typeof value.version !== 'string' || value.version === '') throw bad('version');
  if (!value.metadata || typeof value.metadata.title !== 'string') throw bad('metadata');
  if (!FORMATS.includes(value.format)) throw bad('format');
  if (typeof value.closure !== 'string' || !value.closure.startsWith('/')) throw bad('closure');
  if (typeof value.artifact !== 'string' || !value.artifact.startsWith('/')) throw bad('artifact');
  return value;
}

/**
 * Builds images with Nix: per flake, ONE evaluation for the metadata of all
 * requested images and ONE `nix build` of all their images and SBOM inputs.
 */
export async function buildImages(specs: ImageSpec[], opts: BuildOptions): Promise<ImageArtifact[]> {
  const env = nixEnvFor(opts.env ?? process.env);
  const system = opts.system ?? currentNixSystem();
  const nix = { env, logger: opts.logger, cwd: opts.repoRoot };
  const artifacts = new Map<string, ImageArtifact>();

  for (const [flake, group] of groupByFlake(specs)) {
    const ref = flakeRef(opts.repoRoot, flake);
    const where = `${ref}#imageMetadata.${system}`;
    opts.logger.info(`evaluating ${group.length} image(s) in ${ref}`);
    const evaluated = await evalJson<Record<string, EvaluatedImage>>(where, { ...nix, apply: pickApply(group) });
    const facts = group.map((spec) => checkEvaluated(spec, evaluated[spec.attribute], where));

    const imageInstallables = group.map((s) => `${ref}#packages.${system}.${s.attribute}`);
    const closureInstallables = imageInstallables.map((i) => `${i}.closureExport`);
    opts.logger.info(`building ${group.map((s) => s.name).join(', ')}`);
    const started = Date.now();
    const results = await build([...imageInstallables, ...closureInstallables], nix);
    if (opts.rebuild) {
      opts.logger.info('rebuilding to check the images are reproducible');
      await build(imageInstallables, { ...nix, rebuild: true });
    }
    opts.logger.info(`built ${group.length} image(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // nix build --json does not promise its results in the order asked: match them by output path.
    const byOut = new Map(results.map((r) => [r.outputs.out, r]));
    group.forEach((spec, i) => {
      const fact = facts[i]!;
      const image = byOut.get(fact.artifact);
      const closure = byOut.get(fact.closure);
      if (!image || !closure) {
        throw new ReleaseError('NIX_ERROR', `nix build of ${imageInstallables[i]} did not produce the evaluated paths ${fact.artifact} and ${fact.closure}`);
      }
      artifacts.set(spec.name, {
        name: spec.name,
        collection: spec.collection,
        version: fact.version,
        installable: imageInstallables[i]!,
        drvPath: image.drvPath,
        outPath: fact.artifact,
        format: fact.format,
        closurePath: fact.closure,
        metadata: fact.metadata,
        system,
      });
    });
  }
  return specs.map((s) => artifacts.get(s.name)!);
}
