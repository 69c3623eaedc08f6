/**
 * What every stage of one release shares: the options it was started with,
 * the selected images, the source commit, where images go and the state
 * directory. A release knows its version only after the build (the
 * collection version follows an image's Nix version), hence two steps:
 * prepareRelease, then withVersion.
 */
import { join } from 'node:path';
import type { ImageSpec, Logger, ReleaseManifest, VerificationPolicy } from '@nixrel/core';
import { nixEnvFor } from '@nixrel/nix';
import type { RegistryOptions } from '@nixrel/oci';
import { loadCatalog, selectImages } from './catalog.js';
import type { ProgressReporter } from './progress.js';
import type { SignerOptions } from './signer.js';
import { readSourceInfo, type SourceInfo } from './source.js';
import { ReleaseState } from './state.js';

export interface ReleaseOptions {
  repoRoot: string;
  collection: string;
  images?: string[];
  /** `<host>[:port]/<path>` or `oci:<dir>`; default: the OCI layout `.release/oci`. */
  registry?: string;
  version?: string;
  signer: Omit<SignerOptions, 'keyDir' | 'env'>;
  /** Expected signer identity when verifying (keyless); default: the identity that signed. */
  policy?: Pick<VerificationPolicy, 'certificateIdentity' | 'certificateIdentityRegexp' | 'certificateOidcIssuer'>;
  reproduce?: boolean;
  concurrency?: number;
  /** Where the page goes; default `site/<version>`. */
  outDir?: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  progress: ProgressReporter;
}

/** Everything the stages of one release share. */
export interface ReleaseContext {
  opts: ReleaseOptions;
  specs: ImageSpec[];
  source: SourceInfo;
  version: string;
  registry: string;
  state: ReleaseState;
  stateRoot: string;
  registryOptions: RegistryOptions;
  nixEnv: NodeJS.ProcessEnv;
}

/** What a release knows before it builds: the images, the source, where they go. */
export type ReleaseBase = Omit<ReleaseContext, 'version' | 'state'>;

export interface ReleaseResult {
  version: string;
  stateDir: string;
  manifestPath: string;
  pageDir: string;
  manifest: ReleaseManifest;
}

export function defaultRegistry(repoRoot: string): string {
  return `oci:${join(repoRoot, '.release', 'oci')}`;
}

/**
 * Where an image of the release goes: `<registry>/<name>`. The embedded default
 * registry is an OCI layout directory per image (`oci:.release/oci/<name>`).
 */
export function imageRepository(registry: string, name: string): string {
  return `${registry.replace(/\/+$/, '')}/${name}`;
}

export async function prepareRelease(opts: ReleaseOptions): Promise<ReleaseBase> {
  const specs = selectImages(await loadCatalog(opts.repoRoot), { collection: opts.collection, images: opts.images });
  return {
    opts,
    specs,
    source: await readSourceInfo(opts.repoRoot, opts.env),
    registry: opts.registry ?? defaultRegistry(opts.repoRoot),
    stateRoot: join(opts.repoRoot, '.release'),
    registryOptions: { logger: opts.logger, env: opts.env },
    nixEnv: nixEnvFor(opts.env),
  };
}

export function withVersion(base: ReleaseBase, version: string): ReleaseContext {
  return { ...base, version, state: ReleaseState.forVersion(base.stateRoot, version) };
}
