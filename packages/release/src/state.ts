import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageRecord, ReleaseError, readJsonFile, type StageName, sha256Hex, writeJsonAtomic } from '@nixrel/core';

/**
 * `.release/<version>/` holds everything a release produces before it is
 * published: one ImageRecord per image (rewritten atomically after every stage),
 * the SBOMs, provenance statements and bundles. A killed run leaves it
 * consistent, so running the same command again resumes from it.
 */
export class ReleaseState {
  constructor(readonly dir: string) {}

  static forVersion(stateRoot: string, version: string): ReleaseState {
    return new ReleaseState(join(stateRoot, version));
  }

  recordPath(name: string): string {
    return join(this.dir, 'images', `${name}.json`);
  }

  async readRecord(name: string): Promise<ImageRecord | undefined> {
    const path = this.recordPath(name);
    if (!existsSync(path)) return undefined;
    return readJsonFile<ImageRecord>(path, 'image record');
  }

  async writeRecord(record: ImageRecord): Promise<void> {
    await writeJsonAtomic(this.recordPath(record.name), record);
  }

  async readAll(): Promise<ImageRecord[]> {
    const dir = join(this.dir, 'images');
    if (!existsSync(dir)) return [];
    const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(names.map((f) => readJsonFile<ImageRecord>(join(dir, f), 'image record')));
  }

  /** The records earlier jobs left here: one per named image, or an error naming the missing. */
  async readRecords(names: string[]): Promise<ImageRecord[]> {
    const records = (await this.readAll()).filter((r) => names.includes(r.name));
    const missing = names.filter((n) => !records.some((r) => r.name === n));
    if (missing.length > 0) throw new ReleaseError('NOT_FOUND', `no build records in ${this.dir} for: ${missing.join(', ')}`);
    return records;
  }

  /** Relative paths (to the state dir, i.e. to release.json) of each stage's files. */
  static sbomFile(name: string): string {
    return `sbom/${name}.cdx.json`;
  }
  static provenanceFile(name: string): string {
    return `provenance/${name}.intoto.json`;
  }
  static bundleDir(name: string): string {
    return `bundles/${name}`;
  }
}

/** Hash of a stage's inputs: equal inputs mean the stage's outputs can be reused. */
export function inputHash(inputs: unknown): string {
  return sha256Hex(JSON.stringify(inputs));
}

export function stageIsCurrent(record: ImageRecord, stage: StageName, hash: string): boolean {
  return record.stages[stage]?.inputHash === hash;
}

export function markStage(record: ImageRecord, stage: StageName, hash: string, now = new Date()): void {
  record.stages[stage] = { finishedAt: now.toISOString(), inputHash: hash };
}

/**
 * The last release cut for a collection. The same commit with the same images
 * is the same release: a re-run resumes it (or, when it finished, re-checks it)
 * under the same version instead of starting a new one.
 */
export interface ReleasePointer {
  collection: string;
  version: string;
  commit: string;
  images: string[];
  complete: boolean;
}

export function pointerPath(stateRoot: string, collection: string): string {
  return join(stateRoot, `${collection}.last.json`);
}

export async function readPointer(stateRoot: string, collection: string): Promise<ReleasePointer | undefined> {
  const path = pointerPath(stateRoot, collection);
  if (!existsSync(path)) return undefined;
  return readJsonFile<ReleasePointer>(path, 'release pointer');
}

export async function writePointer(stateRoot: string, pointer: ReleasePointer): Promise<void> {
  await writeJsonAtomic(pointerPath(stateRoot, pointer.collection), pointer);
}
