import { describe, expect, it } from 'vitest';
import { type AttestationRecord, assessSlsaLevel, type ImageRecord, SLSA_PROVENANCE_V1 as SLSA, workflowPathOfIdentity } from '../src/index.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const RELEASE_WORKFLOW = '.github/workflows/release.yml';
const SAME_JOB = `https://github.com/acme/images/${RELEASE_WORKFLOW}@refs/heads/main`;
const REUSABLE = 'https://github.com/acme/images/.github/workflows/attest.yml@refs/heads/main';

function keyless(identity: string, predicateType = SLSA): AttestationRecord {
  return { predicateType, bundlePath: 'b.json', bundleDigest: 'sha256:b', referrerDigest: 'sha256:r', signerMode: 'keyless', signerIdentity: identity, issuer: ISSUER };
}

function keySigned(predicateType = SLSA): AttestationRecord {
  return { predicateType, bundlePath: 'b.json', bundleDigest: 'sha256:b', referrerDigest: 'sha256:r', signerMode: 'key', keyFingerprint: 'sha256:k' };
}

function image(name: string, opts: { provenance?: boolean; attestations?: AttestationRecord[]; verified?: boolean } = {}): ImageRecord {
  return {
    name,
    collection: 'example',
    version: '1.0',
    attribute: name,
    metadata: { title: name, description: name },
    tags: [],
    layers: [],
    ...(opts.provenance === false ? {} : { provenance: { path: `provenance/${name}.intoto.json`, digest: 'sha256:p', predicateType: SLSA, buildType: 'x' } }),
    attestations: opts.attestations ?? [],
    ...(opts.verified === undefined ? {} : { verification: { ok: opts.verified, checkedAt: '2026-01-01T00:00:00Z', policy: { predicateTypes: [SLSA] }, verified: [], failures: [] } }),
    stages: {},
  };
}

const hosted = { hostedCi: true, buildWorkflow: RELEASE_WORKFLOW };

describe('workflowPathOfIdentity', () => {
  it('reads the workflow path of a GitHub workflow identity', () => {
    expect(workflowPathOfIdentity(REUSABLE)).toBe('.github/workflows/attest.yml');
    expect(workflowPathOfIdentity(SAME_JOB)).toBe(RELEASE_WORKFLOW);
  });

  it('finds none in other identities', () => {
    expect(workflowPathOfIdentity('someone@example.com')).toBeUndefined();
    expect(workflowPathOfIdentity('https://github.com/acme/images/.github/workflows/attest.yml')).toBeUndefined();
  });
});

describe('assessSlsaLevel', () => {
  it('L0 for an empty release', () => {
    expect(assessSlsaLevel([], hosted)).toEqual({ level: 0, reasons: ['no images in the release'] });
  });

  it('L0 when an image has no provenance, naming it', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true }), image('b', { provenance: false })], hosted);
    expect(a.level).toBe(0);
    expect(a.reasons).toEqual(['no provenance for: b']);
  });

  it('L1 when provenance exists but is not signed', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE, 'https://cyclonedx.org/bom')], verified: true })], hosted);
    expect(a.level).toBe(1);
    expect(a.reasons.join('\n')).toMatch(/not signed and verified for: a/);
  });

  it('L1 when signed provenance did not verify, naming the image', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true }), image('b', { attestations: [keyless(REUSABLE)], verified: false })], hosted);
    expect(a.level).toBe(1);
    expect(a.reasons.join('\n')).toMatch(/not signed and verified for: b$/m);
  });

  it('L1 when signed with a local key, even on hosted CI', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keySigned()], verified: true })], hosted);
    expect(a.level).toBe(1);
    expect(a.reasons.join('\n')).toMatch(/local key.*L2 needs a hosted platform identity/);
  });

  it('L1 when one image of many is key-signed', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true }), image('b', { attestations: [keySigned()], verified: true })], hosted);
    expect(a.level).toBe(1);
  });

  it('L1 when signed keylessly outside a hosted CI platform', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless('dev@example.com')], verified: true })], { hostedCi: false });
    expect(a.level).toBe(1);
    expect(a.reasons.join('\n')).toMatch(/did not run on a hosted CI platform/);
  });

  it('L2 when the workflow that built also signed', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(SAME_JOB)], verified: true })], hosted);
    expect(a.level).toBe(2);
    expect(a.reasons.join('\n')).toMatch(/signed keylessly through Sigstore by .*release\.yml/);
    expect(a.reasons.join('\n')).toMatch(/same workflow that ran the build steps.*L3 needs signing in an isolated reusable workflow/);
  });

  it('L2 when the build workflow is unknown, or the signing identity is not a workflow', () => {
    expect(assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true })], { hostedCi: true }).level).toBe(2);
    expect(assessSlsaLevel([image('a', { attestations: [keyless('dev@example.com')], verified: true })], hosted).level).toBe(2);
  });

  it('L2 when any image was signed by the build workflow', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true }), image('b', { attestations: [keyless(SAME_JOB)], verified: true })], hosted);
    expect(a.level).toBe(2);
  });

  it('L3 when an isolated reusable workflow signed keylessly and every image verified', () => {
    const a = assessSlsaLevel([image('a', { attestations: [keyless(REUSABLE)], verified: true }), image('b', { attestations: [keyless(REUSABLE)], verified: true })], hosted);
    expect(a.level).toBe(3);
    expect(a.reasons.join('\n')).toMatch(/reusable workflow \.github\/workflows\/attest\.yml, isolated from the build jobs of \.github\/workflows\/release\.yml/);
    expect(a.reasons[0]).toMatch(/provenance exists for every image/);
    // The claim says what it does not cover.
    expect(a.reasons.at(-1)).toMatch(/^limits of this L3: .*come from the build jobs' artifacts.*\.github\/workflows\/attest\.yml lives in the same repository/);
  });
});
