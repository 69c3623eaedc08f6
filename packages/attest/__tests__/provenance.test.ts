import { SLSA_PROVENANCE_V1 } from '@nixrel/core';
import { describe, expect, test } from 'vitest';
import { BUILD_TYPE, buildProvenance, githubActionsContext, githubBuilderId, inspectIdentityToken, LOCAL_BUILDER_ID, type ProvenanceInput } from '../src/index.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const NAR = 'sha256-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const LOCK = JSON.stringify({
  version: 7,
  root: 'root',
  nodes: {
    root: { inputs: { nixpkgs: 'nixpkgs', utils: 'flake-utils' } },
    nixpkgs: { locked: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: 'a'.repeat(40), narHash: NAR, lastModified: 1 } },
    'flake-utils': { inputs: { systems: 'systems', nixpkgs: ['nixpkgs'] }, locked: { type: 'github', owner: 'numtide', repo: 'flake-utils', rev: 'b'.repeat(40), narHash: NAR } },
    systems: { locked: { type: 'git', url: 'https://example.com/systems.git', rev: 'c'.repeat(40), narHash: NAR } },
  },
});

const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'wellmaintained/packages',
  GITHUB_WORKFLOW_REF: 'wellmaintained/packages/.github/workflows/release.yml@refs/tags/v1.2.0',
  GITHUB_REF: 'refs/tags/v1.2.0',
  GITHUB_SHA: COMMIT,
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_EVENT_NAME: 'push',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

const input = (over: Partial<ProvenanceInput> = {}): ProvenanceInput => ({
  image: { repository: 'ghcr.io/wellmaintained/postgres', digest: `sha256:${'d'.repeat(64)}` },
  flake: { ref: `github:wellmaintained/packages/${COMMIT}`, attribute: 'packages.x86_64-linux.postgres' },
  source: { repository: 'https://github.com/wellmaintained/packages', ref: 'refs/tags/v1.2.0', commit: COMMIT },
  collection: 'sbomify',
  releaseVersion: '1.2.0',
  nix: { version: '2.24.9', system: 'x86_64-linux' },
  flakeLock: LOCK,
  sbom: { digest: `sha256:${'e'.repeat(64)}`, name: 'postgres.cdx.json' },
  startedOn: '2026-01-01T10:00:00.000Z',
  finishedOn: new Date('2026-01-01T10:05:00Z'),
  ...over,
});

describe('buildProvenance', () => {
  test('a GitHub Actions build: every field in place', () => {
    const ci = githubActionsContext(GITHUB_ENV)!;
    const s = buildProvenance(input({ ci }));
    expect(s._type).toBe('https://in-toto.io/Statement/v1');
    expect(s.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(s.subject).toEqual([{ name: 'ghcr.io/wellmaintained/postgres', digest: { sha256: 'd'.repeat(64) } }]);
    const { buildDefinition, runDetails } = s.predicate;
    expect(buildDefinition.buildType).toBe(BUILD_TYPE);
    expect(buildDefinition.externalParameters).toEqual({
      flake: { ref: `github:wellmaintained/packages/${COMMIT}`, attribute: 'packages.x86_64-linux.postgres' },
      source: { repository: 'https://github.com/wellmaintained/packages', ref: 'refs/tags/v1.2.0', commit: COMMIT },
      collection: 'sbomify',
      releaseVersion: '1.2.0',
      workflow: { repository: 'https://github.com/wellmaintained/packages', path: '.github/workflows/release.yml', ref: 'refs/tags/v1.2.0' },
    });
    expect(buildDefinition.internalParameters).toEqual({ nixVersion: '2.24.9', system: 'x86_64-linux', runnerEnvironment: 'github-hosted', eventName: 'push' });
    const narHex = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    expect(buildDefinition.resolvedDependencies).toEqual([
      { name: 'source', uri: 'git+https://github.com/wellmaintained/packages@refs/tags/v1.2.0', digest: { gitCommit: COMMIT } },
      { name: 'flake-input:nixpkgs', uri: `github:NixOS/nixpkgs/${'a'.repeat(40)}`, digest: { gitCommit: 'a'.repeat(40), sha256: narHex }, annotations: { narHash: NAR } },
      { name: 'flake-input:utils', uri: `github:numtide/flake-utils/${'b'.repeat(40)}`, digest: { gitCommit: 'b'.repeat(40), sha256: narHex }, annotations: { narHash: NAR } },
      // utils/nixpkgs follows the root's nixpkgs: listed once.
      { name: 'flake-input:utils/systems', uri: `git+https://example.com/systems.git?rev=${'c'.repeat(40)}`, digest: { gitCommit: 'c'.repeat(40), sha256: narHex }, annotations: { narHash: NAR } },
    ]);
    expect(runDetails).toEqual({
      builder: { id: 'https://github.com/wellmaintained/packages/.github/workflows/release.yml@refs/tags/v1.2.0' },
      metadata: {
        invocationId: 'https://github.com/wellmaintained/packages/actions/runs/4242/attempts/2',
        startedOn: '2026-01-01T10:00:00Z',
        finishedOn: '2026-01-01T10:05:00Z',
      },
      byproducts: [{ name: 'postgres.cdx.json', digest: { sha256: 'e'.repeat(64) }, mediaType: 'application/vnd.cyclonedx+json' }],
    });
  });

  test('a local build: the documented local builder id, no workflow, no invocation', () => {
    const s = buildProvenance(input({ flakeLock: undefined, sbom: undefined, startedOn: undefined, finishedOn: undefined }));
    expect(s.predicate.runDetails).toEqual({ builder: { id: LOCAL_BUILDER_ID }, metadata: {}, byproducts: [] });
    expect(s.predicate.buildDefinition.externalParameters).not.toHaveProperty('workflow');
    expect(s.predicate.buildDefinition.resolvedDependencies).toHaveLength(1);
  });

  test.each([
    [{ source: { repository: 'https://x', commit: 'abc' } }, /source commit "abc"/],
    [{ nix: { version: '', system: 'x86_64-linux' } }, /Nix version is missing/],
    [{ image: { repository: 'r', digest: 'sha256:zz' } }, /image digest "sha256:zz"/],
    [{ flakeLock: '{"version":6,"root":"root","nodes":{"root":{}}}' }, /only version 7/],
    [{ flakeLock: '{"version":7,"root":"root","nodes":{"root":{"inputs":{"x":"x"}},"x":{"locked":{"type":"github","narHash":"md5-abc"}}}}' }, /"md5-abc" is not a sha256 SRI/],
    [{ flakeLock: '{"version":7,"root":"root","nodes":{"root":{"inputs":{"x":"x"}},"x":{}}}' }, /input "x" \(node "x"\) is not locked/],
    [{ startedOn: 'yesterday' }, /startedOn "yesterday"/],
  ])('bad input %#: a clear INVALID_INPUT', (over, message) => {
    expect(() => buildProvenance(input(over as Partial<ProvenanceInput>))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }));
  });
});

describe('githubActionsContext', () => {
  test('outside GitHub Actions: undefined', () => {
    expect(githubActionsContext({})).toBeUndefined();
  });
  test('run URL with attempt, builder id from the workflow ref', () => {
    expect(githubActionsContext(GITHUB_ENV)).toMatchObject({
      workflowPath: '.github/workflows/release.yml',
      builderId: 'https://github.com/wellmaintained/packages/.github/workflows/release.yml@refs/tags/v1.2.0',
      invocationId: 'https://github.com/wellmaintained/packages/actions/runs/4242/attempts/2',
      runUrl: 'https://github.com/wellmaintained/packages/actions/runs/4242',
    });
  });
  test("inside a reusable workflow the builder id is the signing token's job_workflow_ref, as in the certificate", () => {
    const ci = githubActionsContext(GITHUB_ENV)!;
    const claims = { iss: 'https://token.actions.githubusercontent.com', sub: 'repo:wellmaintained/packages:ref:refs/tags/v1.2.0', job_workflow_ref: 'wellmaintained/packages/.github/workflows/attest.yml@refs/tags/v1.2.0' };
    const jwt = ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');
    const token = inspectIdentityToken(jwt, 'SIGSTORE_ID_TOKEN');
    expect(token.jobWorkflowRef).toBe(claims.job_workflow_ref);
    expect(githubBuilderId(ci, token)).toBe('https://github.com/wellmaintained/packages/.github/workflows/attest.yml@refs/tags/v1.2.0');
    // Without the claim (a key, or a token from elsewhere): the workflow of the run.
    expect(githubBuilderId(ci, undefined)).toBe(ci.builderId);
    expect(githubBuilderId(ci, inspectIdentityToken(['e30', Buffer.from(JSON.stringify({ iss: 'x', sub: 'y' })).toString('base64url'), 's'].join('.'), 'SIGSTORE_ID_TOKEN'))).toBe(ci.builderId);
  });
  test('missing variables are named', () => {
    expect(() => githubActionsContext({ ...GITHUB_ENV, GITHUB_RUN_ID: undefined, GITHUB_SHA: '' })).toThrow(/GITHUB_SHA, GITHUB_RUN_ID are missing/);
    expect(() => githubActionsContext({ ...GITHUB_ENV, GITHUB_WORKFLOW_REF: 'other/repo/.github/workflows/x.yml@main' })).toThrow(/GITHUB_WORKFLOW_REF "other\/repo/);
  });
});
