/**
 * The cyclonedx library's Component model has no pedigree, so the patches
 * applied to a component ride beside the model and are written into the
 * normalised JSON by serializeBom.
 */
import type { Models } from '@cyclonedx/cyclonedx-library';

const patchesOf = new WeakMap<Models.Component, string[]>();

export function setPatches(component: Models.Component, patches: string[]): void {
  if (patches.length > 0) patchesOf.set(component, patches);
}

export function getPatches(component: Models.Component): string[] | undefined {
  return patchesOf.get(component);
}

/**
 * A Nix patch is a file, not a resolvable link: `diff.url` carries its store
 * path (or URL for fetched patches). Patches are "unofficial": nothing here says
 * upstream wrote them. The text is not embedded, so the SBOM does not depend on
 * which patch files happen to be in the local store.
 */
export function pedigreeJson(patches: string[]): { patches: { type: 'unofficial'; diff: { url: string } }[] } {
  return { patches: patches.map((url) => ({ type: 'unofficial', diff: { url } })) };
}
