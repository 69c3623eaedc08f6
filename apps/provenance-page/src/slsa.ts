/**
 * The SLSA section: the level release.json states, checked against the
 * evidence the manifest itself carries. The page never shows a higher level
 * than both allow; when they disagree it says which requirement is not shown.
 */
import { assessSlsaLevel, type ImageRecord, type ReleaseManifest, SLSA_PROVENANCE_V1 } from '@nixrel/core';
import type { Fact } from './facts.js';
import { rekorEntryUrl, runLinkText, safeHttpUrl } from './links.js';

export interface EvidenceItem {
  label?: string;
  fact: Fact;
}

export interface SlsaRow {
  track: string;
  requirement: string;
  shown: boolean;
  status: string;
  evidence: EvidenceItem[];
  /** One item per image, rendered as a compact list. */
  perImage: EvidenceItem[];
}

export interface SlsaView {
  level: number;
  claimed: number;
  /** Why the page shows a lower level than release.json states. */
  downgrade?: string;
  reasons: string[];
  rows: SlsaRow[];
}

function provenanceAttestation(image: ImageRecord) {
  return image.attestations.find((a) => a.predicateType === SLSA_PROVENANCE_V1);
}

function provenanceVerified(image: ImageRecord): boolean {
  const v = image.verification;
  return !!provenanceAttestation(image) && !!v && v.ok && v.verified.includes(SLSA_PROVENANCE_V1);
}

export function assessSlsa(manifest: ReleaseManifest, fileHref: (path: string) => string): SlsaView {
  const images = manifest.images;
  const total = images.length;
  const count = (pred: (i: ImageRecord) => boolean) => images.filter(pred).length;

  const withProvenance = count((i) => i.provenance?.predicateType === SLSA_PROVENANCE_V1);
  const provenanceExists = total > 0 && withProvenance === total;
  const l1: SlsaRow = {
    track: 'Build L1',
    requirement: 'Provenance exists: SLSA v1 provenance describes how each image was built',
    shown: provenanceExists,
    status: total === 0 ? 'the release lists no images' : `${withProvenance} of ${total} images have SLSA v1 provenance`,
    evidence: [{ label: 'predicate type', fact: { text: SLSA_PROVENANCE_V1 } }],
    perImage: images.map((i) => ({
      label: i.name,
      fact: i.provenance
        ? { text: 'provenance', href: fileHref(i.provenance.path) }
        : { missing: i.stages.provenance ? 'provenance stage recorded no provenance' : 'no provenance: provenance stage has not run' },
    })),
  };

  const runUrl = safeHttpUrl(manifest.builder.runUrl);
  const hostedEvidence: EvidenceItem[] = [{ label: 'builder', fact: { text: manifest.builder.id } }];
  if (manifest.builder.workflow) hostedEvidence.push({ label: 'workflow', fact: { text: manifest.builder.workflow } });
  hostedEvidence.push({
    label: 'run',
    fact: runUrl ? { text: runLinkText(runUrl), href: runUrl } : { missing: 'no workflow run: built outside CI' },
  });
  const hosted: SlsaRow = {
    track: 'Build L2',
    requirement: 'Hosted build platform: the build ran on a hosted CI service, not a workstation',
    shown: !!runUrl,
    status: runUrl ? 'a hosted workflow run is recorded' : 'no workflow run recorded (built outside CI)',
    evidence: hostedEvidence,
    perImage: [],
  };

  const verifiedCount = count(provenanceVerified);
  const signer = manifest.signer;
  const signedEvidence: EvidenceItem[] = [];
  const signedPerImage: EvidenceItem[] = [];
  if (signer.mode === 'keyless') {
    signedEvidence.push({ label: 'signing', fact: { text: 'Sigstore keyless (short-lived certificate)' } });
    signedEvidence.push({ label: 'identity', fact: signer.identity ? { text: signer.identity } : { missing: 'release.json records no signer identity' } });
    signedEvidence.push({ label: 'issuer', fact: signer.issuer ? { text: signer.issuer } : { missing: 'release.json records no OIDC issuer' } });
  } else {
    signedEvidence.push({ label: 'signing', fact: { text: 'key-signed (not keyless)' } });
    signedEvidence.push({
      label: 'key',
      fact: signer.keyFingerprint ? { text: signer.keyFingerprint } : { missing: 'release.json records no key fingerprint' },
    });
  }
  for (const image of images) {
    const att = provenanceAttestation(image);
    let fact: Fact;
    if (!att) fact = { missing: image.stages.attest ? 'no provenance attestation recorded' : 'not signed: attestation stage has not run' };
    else if (att.rekorLogIndex === undefined) fact = { text: 'signed; no transparency log entry' };
    else {
      const href = rekorEntryUrl(att.rekorUrl ?? signer.rekorUrl, att.rekorLogIndex);
      fact = href ? { text: `Rekor entry ${att.rekorLogIndex}`, href } : { text: `Rekor log index ${att.rekorLogIndex} (instance not recorded)` };
    }
    if (att && !provenanceVerified(image)) fact = { missing: `${fact.text ?? 'signed'}, but not verified` };
    signedPerImage.push({ label: image.name, fact });
  }
  const signed: SlsaRow = {
    track: 'Build L2',
    requirement: 'Signed provenance: the provenance is signed, and the signature verified after signing',
    shown: total > 0 && verifiedCount === total,
    status: `${verifiedCount} of ${total} images have signed provenance that verified`,
    evidence: signedEvidence,
    perImage: signedPerImage,
  };

  const claimed = manifest.slsa.level;
  const l3Shown = claimed >= 3 && signer.mode === 'keyless' && provenanceExists && hosted.shown && signed.shown;
  let l3Status: string;
  if (signer.mode === 'key') l3Status = 'key-signed: a signing key the build can reach can forge provenance';
  else if (claimed < 3) l3Status = 'release.json does not claim isolated signing (see the reasons above)';
  else if (!l3Shown) l3Status = 'requires every lower-level requirement';
  else l3Status = 'provenance signed keylessly in a job that build steps cannot touch (per release.json)';
  const l3: SlsaRow = {
    track: 'Build L3',
    requirement: 'Isolated signing, non-falsifiable provenance: signing happens where user build steps cannot reach the credentials',
    shown: l3Shown,
    status: l3Status,
    evidence: [
      {
        label: 'signing identity',
        fact: signer.mode === 'keyless' && signer.identity ? { text: signer.identity } : { missing: signer.mode === 'key' ? 'key-signed (not keyless)' : 'no signer identity recorded' },
      },
      ...manifest.slsa.reasons.map((r) => ({ label: 'release.json', fact: { text: r } })),
    ],
    perImage: [],
  };

  const rows = [l1, hosted, signed, l3];
  // The level the manifest's own evidence supports, by the same rules the release used to claim one.
  const evidence = assessSlsaLevel(images, { hostedCi: !!runUrl, ...(manifest.builder.workflow ? { buildWorkflow: manifest.builder.workflow } : {}) });
  const level = Math.min(claimed, evidence.level);
  const view: SlsaView = { level, claimed, reasons: manifest.slsa.reasons, rows };
  if (level < claimed) {
    const unmet = rows.find((r) => !r.shown);
    view.downgrade = `release.json states Build L${claimed}; this page shows Build L${level} because it cannot show: ${unmet ? `${unmet.track} ${unmet.requirement.split(':')[0]}` : evidence.reasons.at(-1)}.`;
  }
  return view;
}
