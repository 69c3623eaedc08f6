import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');
const workflowsDir = join(repoRoot, '.github', 'workflows');
const validator = join(import.meta.dirname, '..', 'node_modules', '.bin', 'action-validator');
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

/** Every `uses:` value in a parsed workflow (jobs and their steps). */
function usesOf(doc: { jobs?: Record<string, { uses?: string; steps?: { uses?: string }[] }> }): string[] {
  return Object.values(doc.jobs ?? {}).flatMap((job) => [job.uses, ...(job.steps ?? []).map((s) => s.uses)].filter((u): u is string => typeof u === 'string'));
}

describe('GitHub workflows', () => {
  it('exist', () => {
    expect(workflows).toContain('ci.yml');
  });

  it.each(workflows)('%s passes action-validator', async (file) => {
    const { stdout, stderr } = await run(validator, [join(workflowsDir, file)]).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`action-validator rejected ${file}:\n${e.stdout}\n${e.stderr}`);
    });
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
  });

  it.each(workflows)('%s pins every action by a full commit SHA', (file) => {
    const doc = parse(readFileSync(join(workflowsDir, file), 'utf8'));
    const uses = usesOf(doc);
    const unpinned = uses.filter((u) => !u.startsWith('./') && !/^[^@\s]+@[0-9a-f]{40}$/.test(u));
    expect(unpinned).toEqual([]);
  });

  it.each(workflows)('%s declares least-privilege permissions', (file) => {
    const doc = parse(readFileSync(join(workflowsDir, file), 'utf8')) as { permissions?: unknown };
    expect(doc.permissions).toBeDefined();
    expect(doc.permissions).not.toBe('write-all');
  });

  it('recognises an unpinned action', () => {
    const doc = { jobs: { a: { steps: [{ uses: 'actions/checkout@v4' }, { uses: 'x/y@0123456789abcdef0123456789abcdef01234567' }] } } };
    const unpinned = usesOf(doc).filter((u) => !/^[^@\s]+@[0-9a-f]{40}$/.test(u));
    expect(unpinned).toEqual(['actions/checkout@v4']);
  });
});
