import { SLSA_PROVENANCE_V1 } from './predicate-types.js';
import type { AttestationRecord, ImageRecord, SlsaAssessment } from './types.js';

export interface BuildContext {
  /** True when the build ran on GitHub-hosted CI (GITHUB_ACTIONS with a run id). */
  hostedCi: boolean;
  /** Workflow that ran the build steps, e.g. `.github/workflows/release.yml`. */
  buildWorkflow?: string;
}

/** `https://github.com/o/r/.github/workflows/attest.yml@refs/heads/main` -> `.github/workflows/attest.yml`. */
export function workflowPathOfIdentity(identity: string): string | undefined {
  const m = /^https:\/\/[^/]+\/[^/]+\/[^/]+\/(\.github\/workflows\/[^@]+)@/.exec(identity);
  return m?.[1];
}

/**
 * The SLSA Build level the evidence supports, computed and never typed in
 * (docs/adr/0006-slsa-level-rules.md):
 * - L1: every image has provenance.
 * - L2: and it was signed keylessly by a hosted CI platform, so a consumer can
 *   check who produced it.
 * - L3: and the signing identity is a separate reusable workflow, distinct from the
 *   workflow whose jobs ran the build steps, so the build steps could not reach
 *   the signing credentials (id-token) to forge provenance.
 */
export function assessSlsaLevel(images: ImageRecord[], ctx: BuildContext): SlsaAssessment {
  const reasons: string[] = [];
  if (images.length === 0) return { level: 0, reasons: ['no images in the release'] };
  const withoutProvenance = images.filter((i) => !i.provenance).map((i) => i.name);
  if (withoutProvenance.length > 0) {
    return { level: 0, reasons: [`no provenance for: ${withoutProvenance.join(', ')}`] };
  }
  const provenanceSignatures = images.map((i) => i.attestations.find((a) => a.predicateType === SLSA_PROVENANCE_V1));
  const unverified = images.filter((i) => !i.verification?.ok).map((i) => i.name);
  if (unverified.length > 0 || provenanceSignatures.some((a) => !a)) {
    const names = [...new Set([...unverified, ...images.filter((_, k) => !provenanceSignatures[k]).map((i) => i.name)])];
    return { level: 1, reasons: ['provenance exists for every image', `provenance not signed and verified for: ${names.join(', ')}`] };
  }
  reasons.push('provenance exists for every image (SLSA v1.0 predicate, in-toto Statement v1)');
  const signatures = provenanceSignatures as AttestationRecord[];
  if (signatures.some((a) => a.signerMode === 'key')) {
    reasons.push('provenance is signed with a local key, not keylessly by a hosted build platform: L2 needs a hosted platform identity');
    return { level: 1, reasons };
  }
  if (!ctx.hostedCi) {
    reasons.push('the build did not run on a hosted CI platform: L2 needs a hosted build platform');
    return { level: 1, reasons };
  }
  const identities = [...new Set(signatures.map((a) => a.signerIdentity ?? ''))];
  reasons.push(`provenance signed keylessly through Sigstore by ${identities.join(', ')} and verified`);
  const signingWorkflows = identities.map(workflowPathOfIdentity);
  const isolated =
    ctx.buildWorkflow !== undefined && signingWorkflows.every((w) => w !== undefined && w !== ctx.buildWorkflow);
  if (!isolated) {
    reasons.push(
      'provenance was signed by the same workflow that ran the build steps, so they could have reached the signing credentials: L3 needs signing in an isolated reusable workflow',
    );
    return { level: 2, reasons };
  }
  reasons.push(
    `provenance was signed by the reusable workflow ${signingWorkflows[0]}, isolated from the build jobs of ${ctx.buildWorkflow}, which hold no id-token permission`,
  );
  reasons.push(
    `limits of this L3: the build facts (digests, SBOMs, Nix version) in the provenance come from the build jobs' artifacts, which the signing job checks against the registry but cannot re-derive; and ${signingWorkflows[0]} lives in the same repository as the build, so whoever can change the repository can change the signer (docs/adr/0006-slsa-level-rules.md)`,
  );
  return { level: 3, reasons };
}
