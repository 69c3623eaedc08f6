import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageRecord, ReleaseError } from '@nixrel/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inputHash, markStage, pointerPath, ReleaseState, readPointer, stageIsCurrent, writePointer } from '../src/state.js';
import { assertVersion } from '../src/versioning.js';

function record(name: string): ImageRecord {
  return { name, collection: 'example', version: '1.0', attribute: name, metadata: { title: name, description: name }, tags: [], layers: [], attestations: [], stages: {} };
}

/** The SCHEMA_INVALID error a read of a bad state file ends in. */
async function schemaRefusal(read: Promise<unknown>): Promise<ReleaseError> {
  const e = await read.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ReleaseError);
  expect((e as ReleaseError).code).toBe('SCHEMA_INVALID');
  return e as ReleaseError;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'nixrel-state-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('inputHash', () => {
  it('is the sha256 of the inputs as JSON', () => {
    const inputs = { outPath: '/nix/store/abc-hello', repository: '127.0.0.1:5000/example/hello' };
    expect(inputHash(inputs)).toBe(createHash('sha256').update(JSON.stringify(inputs)).digest('hex'));
  });

  it('is equal for equal inputs and differs when any input changes', () => {
    const a = inputHash({ digest: 'sha256:1', sbom: 'sha256:2', signer: 'keyless' });
    expect(inputHash({ digest: 'sha256:1', sbom: 'sha256:2', signer: 'keyless' })).toBe(a);
    expect(inputHash({ digest: 'sha256:1', sbom: 'sha256:2', signer: 'key' })).not.toBe(a);
    expect(inputHash({ digest: 'sha256:1', sbom: 'sha256:3', signer: 'keyless' })).not.toBe(a);
    expect(inputHash({ digest: 'sha256:1', sbom: 'sha256:2' })).not.toBe(a);
  });
});

describe('stage marks', () => {
  it('a stage is current only for the inputs it ran on', () => {
    const r = record('hello');
    const hash = inputHash({ outPath: '/nix/store/a' });
    expect(stageIsCurrent(r, 'build', hash)).toBe(false);
    markStage(r, 'build', hash, new Date('2026-03-04T05:06:07Z'));
    expect(r.stages.build).toEqual({ finishedAt: '2026-03-04T05:06:07.000Z', inputHash: hash });
    expect(stageIsCurrent(r, 'build', hash)).toBe(true);
    expect(stageIsCurrent(r, 'build', inputHash({ outPath: '/nix/store/b' }))).toBe(false);
    expect(stageIsCurrent(r, 'publish', hash)).toBe(false);
  });

  it('marking again replaces the earlier mark', () => {
    const r = record('hello');
    markStage(r, 'sbom', 'one');
    markStage(r, 'sbom', 'two');
    expect(stageIsCurrent(r, 'sbom', 'one')).toBe(false);
    expect(stageIsCurrent(r, 'sbom', 'two')).toBe(true);
  });
});

describe('ReleaseState', () => {
  it('lives in <state root>/<version> and names each stage file relative to it', () => {
    const state = ReleaseState.forVersion(root, 'example-v1-20260304.1');
    expect(state.dir).toBe(join(root, 'example-v1-20260304.1'));
    expect(state.recordPath('hello')).toBe(join(root, 'example-v1-20260304.1', 'images', 'hello.json'));
    expect(ReleaseState.sbomFile('hello')).toBe('sbom/hello.cdx.json');
    expect(ReleaseState.provenanceFile('hello')).toBe('provenance/hello.intoto.json');
    expect(ReleaseState.bundleDir('hello')).toBe('bundles/hello');
  });

  it('reads back what it wrote, and nothing for an image it never saw', async () => {
    const state = ReleaseState.forVersion(root, 'v1');
    expect(await state.readRecord('hello')).toBeUndefined();
    expect(await state.readAll()).toEqual([]);
    const r = record('hello');
    markStage(r, 'build', 'h');
    await state.writeRecord(r);
    expect(await state.readRecord('hello')).toEqual(r);
    // Written whole: no temporary file left beside it.
    expect(await readdir(join(state.dir, 'images'))).toEqual(['hello.json']);
  });

  it('reads every record in name order, skipping other files', async () => {
    const state = ReleaseState.forVersion(root, 'v1');
    for (const n of ['toolbox', 'greeter', 'hello']) await state.writeRecord(record(n));
    await writeFile(join(state.dir, 'images', 'notes.txt'), 'not a record');
    expect((await state.readAll()).map((r) => r.name)).toEqual(['greeter', 'hello', 'toolbox']);
  });

  it('names a corrupt record file in its error', async () => {
    const state = ReleaseState.forVersion(root, 'v1');
    await mkdir(join(state.dir, 'images'), { recursive: true });
    await writeFile(state.recordPath('hello'), '{"name": "hel');
    await expect(state.readRecord('hello')).rejects.toMatchObject({ code: 'SCHEMA_INVALID', message: expect.stringContaining(state.recordPath('hello')) });
    await expect(state.readAll()).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  it.each([
    ['{}', /image record \S+hello\.json is not valid: \/: must have required property 'name'/],
    ['[]', /image record \S+hello\.json is not valid: \/: must be object/],
    ['{"name": "hel', /image record \S+hello\.json is not valid JSON/],
    ['{"name": "hello", "collection": "example", "version": "1", "attribute": "hello", "metadata": {"title": "t", "description": "d"}, "tags": "v1", "layers": [], "attestations": [], "stages": {}}', /\/tags: must be array/],
  ])('refuses the record %s naming the file, the field and how to recover', async (text, message) => {
    const state = ReleaseState.forVersion(root, 'v1');
    await mkdir(join(state.dir, 'images'), { recursive: true });
    await writeFile(state.recordPath('hello'), text);
    const e = await schemaRefusal(state.readRecord('hello'));
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`delete ${state.recordPath('hello')} and run the same command again`);
    await expect(state.readAll()).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  it('versions do not share state', async () => {
    await ReleaseState.forVersion(root, 'v1').writeRecord(record('hello'));
    expect(await ReleaseState.forVersion(root, 'v2').readRecord('hello')).toBeUndefined();
  });
});

describe('release pointer', () => {
  const pointer = { collection: 'example', version: 'example-v1-20260304.1', commit: 'abc', images: ['greeter', 'hello'], complete: false };

  it('is <state root>/<collection>.last.json, one per collection', async () => {
    expect(pointerPath(root, 'example')).toBe(join(root, 'example.last.json'));
    expect(await readPointer(root, 'example')).toBeUndefined();
    await writePointer(root, pointer);
    expect(existsSync(join(root, 'example.last.json'))).toBe(true);
    expect(await readPointer(root, 'example')).toEqual(pointer);
    expect(await readPointer(root, 'sbomify')).toBeUndefined();
  });

  it('is overwritten when the release completes', async () => {
    await writePointer(root, pointer);
    await writePointer(root, { ...pointer, complete: true });
    expect((await readPointer(root, 'example'))?.complete).toBe(true);
    expect(JSON.parse(await readFile(pointerPath(root, 'example'), 'utf8')).complete).toBe(true);
  });

  it('names a corrupt pointer in its error', async () => {
    await writeFile(pointerPath(root, 'example'), 'nope');
    await expect(readPointer(root, 'example')).rejects.toMatchObject({ code: 'SCHEMA_INVALID', message: expect.stringContaining('example.last.json') });
  });

  it.each([
    ['{}', /must have required property 'collection'/],
    ['[]', /must be object/],
    ['{"collection": "exa', /is not valid JSON/],
    [JSON.stringify({ ...pointer, version: '../..' }), /\/version: must match pattern/],
    [JSON.stringify({ ...pointer, version: 'keys' }), /names the version "keys", which cannot be one/],
  ])('refuses the pointer %s naming the file and how to recover', async (text, message) => {
    await writeFile(pointerPath(root, 'example'), text);
    const e = await schemaRefusal(readPointer(root, 'example'));
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`delete ${pointerPath(root, 'example')}: the next release then picks its version afresh`);
  });
});

describe('version names', () => {
  it.each(['keys', 'oci', 'tuf', 'sbom', 'KEYS', 'example.last.json', 'x.lock', '..', '.', '', 'a/b', '../../outside'])('%j cannot name a state directory', (version) => {
    expect(() => ReleaseState.forVersion(root, version)).toThrow(/invalid version/);
    expect(() => assertVersion(version)).toThrow(/invalid --version/);
  });

  it('a version that is a tag and no reserved name is accepted', () => {
    expect(ReleaseState.forVersion(root, 'example-v1.0.0-20260304.1').dir).toBe(join(root, 'example-v1.0.0-20260304.1'));
    expect(() => assertVersion('keys-v1')).not.toThrow();
  });
});
