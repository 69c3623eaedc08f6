import { describe, expect, it } from 'vitest';
import { isReleaseError, type ReleaseManifest, validateManifest } from '../src/index.js';

const digest = `sha256:${'a'.repeat(64)}`;

function minimal(): ReleaseManifest {
  return {
    schemaVersion: 1,
    collection: 'example',
    version: 'example-v1.0.0-20261126.1',
    date: '2026-11-26T12:00:00.000Z',
    source: { repository: 'https://github.com/o/r', commit: 'b'.repeat(40) },
    builder: { id: 'local' },
    signer: { mode: 'key', keyFingerprint: `sha256:${'c'.repeat(64)}` },
    registry: 'oci:.release/oci',
    slsa: { level: 1, reasons: ['provenance exists'] },
    images: [
      {
        name: 'hello',
        collection: 'example',
        version: '1.0',
        attribute: 'hello',
        metadata: { title: 'hello', description: 'says hello' },
        digest,
        tags: ['hello-1.0-bbbbbbb'],
        layers: [{ digest, size: 10, mediaType: 'application/vnd.oci.image.layer.v1.tar', diffId: digest }],
        attestations: [],
        stages: {},
      },
    ],
  };
}

describe('release manifest schema', () => {
  it('accepts a well-formed manifest', () => {
    expect(validateManifest(minimal()).images[0]?.name).toBe('hello');
  });

  it('refuses a manifest with every schema error listed', () => {
    const bad = minimal() as unknown as Record<string, unknown>;
    (bad.source as Record<string, unknown>).commit = 'not-a-commit';
    bad.extra = true;
    try {
      validateManifest(bad, 'release.json');
      expect.unreachable();
    } catch (e) {
      expect(isReleaseError(e, 'SCHEMA_INVALID')).toBe(true);
      const details = (e as { details: string[] }).details.join('\n');
      expect(details).toContain('/source/commit');
      expect(details).toContain('additional properties');
    }
  });

  it('refuses file paths that escape the release directory', () => {
    const m = minimal();
    m.signer.publicKeyPath = '../../etc/passwd';
    expect(() => validateManifest(m)).toThrow(/schema/);
    m.signer.publicKeyPath = '/etc/passwd';
    expect(() => validateManifest(m)).toThrow(/schema/);
    m.signer.publicKeyPath = 'keys/release.pub';
    expect(() => validateManifest(m)).not.toThrow();
  });

  it('refuses non-http links', () => {
    const m = minimal();
    m.builder.runUrl = 'javascript:alert(1)';
    expect(() => validateManifest(m)).toThrow(/schema/);
  });
});
