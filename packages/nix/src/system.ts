import { ReleaseError } from '@nixrel/core';

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };
const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin' };

/** The Nix system string of this machine (`x86_64-linux`...), without asking nix. */
export function currentNixSystem(arch: string = process.arch, platform: string = process.platform): string {
  const a = ARCH[arch];
  const o = OS[platform];
  if (!a || !o) throw new ReleaseError('INVALID_INPUT', `no Nix system for ${arch}/${platform}`);
  return `${a}-${o}`;
}
