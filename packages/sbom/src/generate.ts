/** One image's SBOM from its closure export: parse, build, validate, then write. */
import { lstat, readFile } from 'node:fs/promises';
import type { Models } from '@cyclonedx/cyclonedx-library';
import { ReleaseError, type SbomRecord, sha256Digest, writeFileAtomic } from '@nixrel/core';
import { parseClosureExport } from './closure-export.js';
import { closureToBom } from './closure-to-bom.js';
import { licenceSummary } from './licences.js';
import { byCodeUnit } from './packages.js';
import { assessQuality } from './quality.js';
import { SPEC_VERSION, serializeBom } from './serialize.js';
import { validateBom } from './validate.js';

export interface GenerateSbomOptions {
  closureFile: string;
  outFile: string;
  image?: { digest?: string; repositoryUrl?: string };
  /** Seconds since the epoch; defaults to SOURCE_DATE_EPOCH from the environment. */
  sourceDateEpoch?: number;
  /** Check that every closure path exists on this machine's disk. */
  checkStore?: boolean;
}

/**
 * The SBOM's timestamp. It must not be the wall clock, or two runs on the same
 * closure would differ: SOURCE_DATE_EPOCH (the reproducible-builds convention)
 * is required.
 */
export function sbomTimestamp(env: Record<string, string | undefined>): Date {
  const raw = env['SOURCE_DATE_EPOCH'];
  if (raw === undefined || raw === '') {
    throw new ReleaseError(
      'INVALID_INPUT',
      'SOURCE_DATE_EPOCH is not set: the SBOM timestamp comes from it so that the SBOM is reproducible (e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct))',
    );
  }
  return epochToDate(raw, 'SOURCE_DATE_EPOCH');
}

function epochToDate(raw: string | number, what: string): Date {
  const seconds = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  const date = new Date(seconds * 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0 || Number.isNaN(date.getTime())) {
    throw new ReleaseError('INVALID_INPUT', `${what} must be a whole number of seconds since 1970, got ${JSON.stringify(raw)}`);
  }
  return date;
}

let toolVersionCache: string | undefined;

/** This package's version, recorded in metadata.tools. */
export async function sbomToolVersion(): Promise<string> {
  toolVersionCache ??= (JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return toolVersionCache;
}

async function assertInStore(paths: string[], closureFile: string): Promise<void> {
  const missing: string[] = [];
  const BATCH = 64;
  for (let i = 0; i < paths.length; i += BATCH) {
    const batch = paths.slice(i, i + BATCH);
    const found = await Promise.all(batch.map((p) => lstat(p).then(() => true, () => false)));
    batch.forEach((p, k) => {
      if (!found[k]) missing.push(p);
    });
  }
  if (missing.length > 0) {
    throw new ReleaseError('NOT_FOUND', `closure export ${closureFile}: ${missing[0]} is not in the Nix store${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`, {
      details: missing.slice(0, 20),
    });
  }
}

/** Licence summary -> number of components carrying it, keys sorted. */
export function licenceCounts(bom: Models.Bom): Record<string, number> {
  const counts = new Map<string, number>();
  for (const c of bom.components) {
    const key = licenceSummary(c.licenses);
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort(([a], [b]) => byCodeUnit(a, b)));
}

/**
 * Generates, validates and writes one SBOM. Nothing is written unless the
 * document validated, and the file appears atomically.
 */
export async function generateSbom(opts: GenerateSbomOptions): Promise<SbomRecord> {
  let text: string;
  try {
    text = await readFile(opts.closureFile, 'utf8');
  } catch (e) {
    throw new ReleaseError('NOT_FOUND', `closure export not found: ${opts.closureFile}`, { cause: e });
  }
  const closure = parseClosureExport(text, opts.closureFile);
  if (opts.checkStore) await assertInStore(closure.paths.map((p) => p.path), opts.closureFile);
  const timestamp =
    opts.sourceDateEpoch === undefined ? sbomTimestamp(process.env) : epochToDate(opts.sourceDateEpoch, 'sourceDateEpoch');
  const bom = closureToBom(closure, {
    ...(opts.image ? { image: opts.image } : {}),
    timestamp,
    toolVersion: await sbomToolVersion(),
  });
  const json = serializeBom(bom);
  const doc = await validateBom(json);
  await writeFileAtomic(opts.outFile, json);
  return {
    path: opts.outFile,
    digest: sha256Digest(json),
    specVersion: SPEC_VERSION,
    components: bom.components.size,
    licences: licenceCounts(bom),
    quality: assessQuality(doc),
  };
}
