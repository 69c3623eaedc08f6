/**
 * The build stage: ONE Nix evaluation and ONE `nix build` per flake for all
 * images of a release (buildImages), then each image's record takes the facts
 * of its build (buildStage).
 */
import { resolve } from 'node:path';
import { githubActionsContext } from '@nixrel/attest';
import { type ArtifactFormat, type ImageArtifact, type ImageMetadata, type ImageRecord, type ImageSpec, type Logger, ReleaseError } from '@nixrel/core';
import { build, currentNixSystem, evalJson, nixEnvFor, nixVersion } from '@nixrel/nix';
import type { ReleaseBase } from '../release-context.js';
import type { Stage } from './stage.js';

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

/** An image's facts as its flake evaluates them, before anything is built. */
export interface EvaluatedImageFacts extends EvaluatedImage {
  collection: string;
  system: string;
  /** Installable of the image, e.g. `path:/repo/examples#packages.x86_64-linux.hello`. */
  installable: string;
}

/**
 * Evaluates the requested images' metadata: ONE `nix eval` per flake of its
 * `imageMetadata.<system>`, narrowed to the requested names so the others are
 * never evaluated. Nothing is built.
 */
export async function evaluateImages(specs: ImageSpec[], opts: BuildOptions): Promise<EvaluatedImageFacts[]> {
  const env = nixEnvFor(opts.env ?? process.env);
  const system = opts.system ?? currentNixSystem();
  const facts = new Map<string, EvaluatedImageFacts>();
  for (const [flake, group] of groupByFlake(specs)) {
    const ref = flakeRef(opts.repoRoot, flake);
    const where = `${ref}#imageMetadata.${system}`;
    opts.logger.info(`evaluating ${group.length} image(s) in ${ref}`);
    const evaluated = await evalJson<Record<string, EvaluatedImage>>(where, { env, logger: opts.logger, cwd: opts.repoRoot, apply: pickApply(group) });
    for (const spec of group) {
      const fact = checkEvaluated(spec, evaluated[spec.attribute], where);
      facts.set(spec.name, { ...fact, name: spec.name, collection: spec.collection, system, installable: `${ref}#packages.${system}.${spec.attribute}` });
    }
  }
  return specs.map((s) => facts.get(s.name)!);
}

/**
 * Builds images with Nix: ONE evaluation per flake for the metadata of all
 * requested images (evaluateImages), then ONE `nix build` per flake of all
 * their images and SBOM inputs.
 */
export async function buildImages(specs: ImageSpec[], opts: BuildOptions): Promise<ImageArtifact[]> {
  const env = nixEnvFor(opts.env ?? process.env);
  const nix = { env, logger: opts.logger, cwd: opts.repoRoot };
  const evaluated = await evaluateImages(specs, opts);
  const byFlake = new Map<string, EvaluatedImageFacts[]>();
  for (const [i, spec] of specs.entries()) byFlake.set(spec.flake, [...(byFlake.get(spec.flake) ?? []), evaluated[i]!]);

  const artifacts = new Map<string, ImageArtifact>();
  for (const group of byFlake.values()) {
    const imageInstallables = group.map((f) => f.installable);
    const closureInstallables = imageInstallables.map((i) => `${i}.closureExport`);
    opts.logger.info(`building ${group.map((f) => f.name).join(', ')}`);
    const started = Date.now();
    const results = await build([...imageInstallables, ...closureInstallables], nix);
    if (opts.rebuild) {
      opts.logger.info('rebuilding to check the images are reproducible');
      await build(imageInstallables, { ...nix, rebuild: true });
    }
    opts.logger.info(`built ${group.length} image(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // nix build --json does not promise its results in the order asked: match them by output path.
    const byOut = new Map(results.map((r) => [r.outputs.out, r]));
    for (const fact of group) {
      const image = byOut.get(fact.artifact);
      if (!image || !byOut.has(fact.closure)) {
        throw new ReleaseError('NIX_ERROR', `nix build of ${fact.installable} did not produce the evaluated paths ${fact.artifact} and ${fact.closure}`);
      }
      artifacts.set(fact.name, {
        name: fact.name,
        collection: fact.collection,
        version: fact.version,
        installable: fact.installable,
        drvPath: image.drvPath,
        outPath: fact.artifact,
        format: fact.format,
        closurePath: fact.closure,
        metadata: fact.metadata,
        system: fact.system,
      });
    }
  }
  return specs.map((s) => artifacts.get(s.name)!);
}

/** The outcome of building every image of a release at once. */
export interface BuildOutcome {
  artifacts: ImageArtifact[];
  nixVersion: string;
  startedOn: string;
  finishedOn: string;
}

/** Builds every image of the release: one Nix evaluation and one build. */
export async function buildRelease(base: ReleaseBase): Promise<BuildOutcome> {
  const { opts } = base;
  for (const spec of base.specs) opts.progress.stage(spec.name, 'build');
  const startedOn = new Date().toISOString();
  const [artifacts, version] = await Promise.all([
    buildImages(base.specs, { repoRoot: opts.repoRoot, logger: opts.logger, env: base.nixEnv }),
    nixVersion({ env: base.nixEnv }),
  ]);
  return { artifacts, nixVersion: version.version, startedOn, finishedOn: new Date().toISOString() };
}

/** The record an image starts with before its first stage. */
export function newRecord(spec: ImageSpec): ImageRecord {
  return {
    name: spec.name,
    collection: spec.collection,
    version: '',
    attribute: spec.attribute,
    flake: spec.flake,
    packageDir: spec.packageDir,
    metadata: spec.metadata,
    tags: [],
    layers: [],
    attestations: [],
    stages: {},
  };
}

/** One image's part of the build: its record takes the facts of the build. */
export const buildStage: Stage<{ artifact: ImageArtifact; outcome: BuildOutcome }> = {
  name: 'build',
  reportedByCaller: true,
  inputs: (_ctx, _record, { artifact }) => ({ outPath: artifact.outPath, closurePath: artifact.closurePath }),
  async run(ctx, record, { artifact, outcome }) {
    const spec = ctx.specs.find((s) => s.name === artifact.name)!;
    const ci = githubActionsContext(ctx.opts.env);
    record.version = artifact.version;
    record.flake = spec.flake;
    record.packageDir = spec.packageDir;
    record.outPath = artifact.outPath;
    record.format = artifact.format;
    record.metadata = artifact.metadata;
    record.build = {
      installable: artifact.installable,
      drvPath: artifact.drvPath,
      closurePath: artifact.closurePath,
      system: artifact.system,
      nixVersion: outcome.nixVersion,
      startedOn: outcome.startedOn,
      finishedOn: outcome.finishedOn,
      ...(ci ? { runUrl: ci.runUrl } : {}),
    };
  },
};
