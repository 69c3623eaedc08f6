import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSchema, IMAGE_RECORD_SCHEMA, type ImageRecord, isReleaseError, ReleaseError, readJsonFile, type StageName, schemaRef, sha256Hex, writeJsonAtomic } from '@nixrel/core';

/**
 * `.release/<version>/` holds everything a release produces before it is
 * published: one ImageRecord per image (rewritten atomically after every stage),
 * the SBOMs, provenance statements and bundles. A killed run leaves it
 * consistent, so running the same command again resumes from it.
 */
export class ReleaseState {
  constructor(readonly dir: string) {}

  static forVersion(stateRoot: string, version: string): ReleaseState {
    assertStateName(version);
    return new ReleaseState(join(stateRoot, version));
  }

  recordPath(name: string): string {
    return join(this.dir, 'images', `${name}.json`);
  }

  async readRecord(name: string): Promise<ImageRecord | undefined> {
    const path = this.recordPath(name);
    if (!existsSync(path)) return undefined;
    return readRecordFile(path);
  }

  async writeRecord(record: ImageRecord): Promise<void> {
    await writeJsonAtomic(this.recordPath(record.name), record);
  }

  async readAll(): Promise<ImageRecord[]> {
    const dir = join(this.dir, 'images');
    if (!existsSync(dir)) return [];
    const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(names.map((f) => readRecordFile(join(dir, f))));
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

/** What else lives in `.release/` beside the version directories: a version may not be named like it. */
const RESERVED_NAMES = new Set(['keys', 'oci', 'tuf', 'sbom']);

/**
 * A release version names a directory of `.release/`: one path component
 * (no separator, not `.` or `..`), not one of the tool's own directories
 * (keys, oci, tuf, sbom), and not a pointer file (`*.json`).
 */
export function assertStateName(version: string): void {
  const why =
    version === '' || version === '.' || version === '..' || /[/\\]/.test(version) || version.includes('\0')
      ? 'it must be one path component'
      : RESERVED_NAMES.has(version.toLowerCase()) || /\.(json|lock)$/i.test(version)
        ? `it is reserved for the tool's own files in .release/ (${[...RESERVED_NAMES].join(', ')}, *.json, *.lock)`
        : undefined;
  if (why) throw new ReleaseError('INVALID_INPUT', `invalid version "${version}": ${why}`);
}

/**
 * Reads a state file and checks it against its schema. A file that is not
 * JSON, or not the shape the tool writes (`{}`, `[]`, cut short), is refused
 * with a message naming it and how to recover, never a TypeError later.
 */
async function readStateFile<T>(path: string, what: string, schema: string, fix: string): Promise<T> {
  let data: unknown;
  try {
    data = await readJsonFile(path, what);
  } catch (e) {
    if (isReleaseError(e, 'INVALID_INPUT')) throw new ReleaseError('SCHEMA_INVALID', `${e.message}; ${fix}`, { cause: e });
    throw e;
  }
  return assertSchema<T>(schema, data, `${what} ${path}`, fix);
}

function readRecordFile(path: string): Promise<ImageRecord> {
  return readStateFile<ImageRecord>(path, 'image record', IMAGE_RECORD_SCHEMA, `delete ${path} and run the same command again: that image's stages are redone`);
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

const POINTER_SCHEMA = {
  $id: 'https://github.com/wellmaintained/packages/schema/release-pointer.schema.json',
  type: 'object',
  additionalProperties: false,
  required: ['collection', 'version', 'commit', 'images', 'complete'],
  properties: {
    collection: { type: 'string', pattern: '^[a-z0-9]+(?:[._-][a-z0-9]+)*$' },
    // The version names a directory of .release/: a tag, so never a path.
    version: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$' },
    commit: { type: 'string', pattern: '^[0-9a-f]+$' },
    images: { type: 'array', items: { type: 'string' } },
    complete: { type: 'boolean' },
  },
} as const;

export async function readPointer(stateRoot: string, collection: string): Promise<ReleasePointer | undefined> {
  const path = pointerPath(stateRoot, collection);
  if (!existsSync(path)) return undefined;
  const fix = `delete ${path}: the next release then picks its version afresh`;
  const pointer = await readStateFile<ReleasePointer>(path, 'release pointer', schemaRef(POINTER_SCHEMA), fix);
  try {
    assertStateName(pointer.version);
  } catch (e) {
    throw new ReleaseError('SCHEMA_INVALID', `release pointer ${path} names the version "${pointer.version}", which cannot be one: ${fix}`, { cause: e });
  }
  return pointer;
}

export async function writePointer(stateRoot: string, pointer: ReleasePointer): Promise<void> {
  await writeJsonAtomic(pointerPath(stateRoot, pointer.collection), pointer);
}
