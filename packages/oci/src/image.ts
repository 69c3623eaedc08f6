import { ReleaseError, sha256Digest } from '@nixrel/core';
import { type Descriptor, OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST } from './media-types.js';

/**
 * The OCI image derived from a docker-archive. Everything here is a pure
 * function of the archive's config and layer bytes, so the same Nix output
 * gives the same manifest digest on any machine (ADR 0002).
 */

// Top-level fields the OCI image config defines, in the order the spec lists them.
const CONFIG_FIELDS = ['created', 'author', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'config', 'rootfs', 'history'] as const;

/** JSON with object keys sorted at every level: independent of how the input ordered them. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

function dropNulls(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

export interface DockerConfig {
  architecture?: string;
  os?: string;
  config?: Record<string, unknown> | null;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: Record<string, unknown>[];
  [key: string]: unknown;
}

/**
 * OCI config from a docker image config: the fields OCI defines (docker-only
 * ones such as container_config are dropped), nulls removed, keys sorted.
 */
export function toOciConfig(docker: DockerConfig, where: string): Uint8Array {
  if (!docker || typeof docker !== 'object' || Array.isArray(docker)) {
    throw new ReleaseError('ARCHIVE_ERROR', `${where}: image config is not a JSON object`);
  }
  for (const field of ['architecture', 'os'] as const) {
    if (typeof docker[field] !== 'string' || !docker[field]) {
      throw new ReleaseError('ARCHIVE_ERROR', `${where}: image config has no "${field}"`);
    }
  }
  const diffIds = docker.rootfs?.diff_ids;
  if (docker.rootfs?.type !== 'layers' || !Array.isArray(diffIds)) {
    throw new ReleaseError('ARCHIVE_ERROR', `${where}: image config has no rootfs of type "layers" with diff_ids`);
  }
  const out: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    const value = docker[field];
    if (value === undefined || value === null) continue;
    if (field === 'config') {
      if (typeof value === 'object' && !Array.isArray(value)) out.config = dropNulls(value as Record<string, unknown>);
    } else if (field === 'rootfs') {
      out.rootfs = { type: 'layers', diff_ids: diffIds };
    } else if (field === 'history' && Array.isArray(value)) {
      out.history = value.map((h) => dropNulls(h as Record<string, unknown>));
    } else {
      out[field] = value;
    }
  }
  return new TextEncoder().encode(canonicalJson(out));
}

export function buildManifest(config: Descriptor, layers: Descriptor[]): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export function configDescriptor(config: Uint8Array): Descriptor {
  return { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length };
}

export function layerDescriptor(digest: string, size: number): Descriptor {
  return { mediaType: OCI_LAYER_TAR, digest, size };
}
