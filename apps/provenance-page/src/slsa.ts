/**
 * The SLSA section displays the level the release computed from its evidence
 * (release.json `slsa`: level and reasons); the page does not re-derive it.
 * What a level means is said in plain words next to it.
 */
import type { ReleaseManifest } from '@nixrel/core';

export interface SlsaLevelView {
  level: number;
  name: string;
  means: string;
  met: boolean;
}

export interface SlsaView {
  level: number;
  reasons: string[];
  levels: SlsaLevelView[];
}

const LEVELS: Omit<SlsaLevelView, 'met'>[] = [
  { level: 1, name: 'Build L1: provenance exists', means: 'a record of how each image was built (source, build command, builder) is published with it.' },
  { level: 2, name: 'Build L2: hosted and signed', means: 'the build ran on a hosted CI platform, which signed the provenance, so it can be checked to come from that platform.' },
  {
    level: 3,
    name: 'Build L3: hard to forge',
    means: 'the signing ran apart from the build steps, so a compromised build step could not have forged the provenance.',
  },
];

export function slsaView(manifest: ReleaseManifest): SlsaView {
  const { level, reasons } = manifest.slsa;
  return { level, reasons, levels: LEVELS.map((l) => ({ ...l, met: level >= l.level })) };
}
