/**
 * What changed between two releases of a collection: computed by the release
 * (stored next to release.json) and by `pnpm release diff`, displayed by the
 * page. Images are matched by name; SBOM components by purl without its
 * version, then by name.
 */

/** Where one side of the diff came from. */
export interface ReleaseRef {
  collection: string;
  version: string;
  /** ISO 8601 date of the release. */
  date: string;
}

export interface ComponentRef {
  name: string;
  version?: string;
  purl?: string;
}

export interface ComponentChange {
  name: string;
  from?: string;
  to?: string;
  purl?: string;
}

export interface ValueChange<T> {
  from: T;
  to: T;
}

export interface ImageDiff {
  name: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** The image's version and digest in the newer release (or the older one, for a removed image). */
  version?: string;
  digest?: string;
  /** Set only when the value differs. */
  digestChange?: ValueChange<string | undefined>;
  versionChange?: ValueChange<string>;
  tags: { added: string[]; removed: string[] };
  components: { added: ComponentRef[]; removed: ComponentRef[]; changed: ComponentChange[] };
  licences: { added: string[]; removed: string[] };
  /** Sum of the closure's NAR sizes in bytes, from the SBOMs. */
  closureSize?: ValueChange<number>;
  layers?: ValueChange<number>;
  /** flake.lock inputs (from the provenance) whose locked revision or hash changed, or that came or went. */
  flakeInputs: { name: string; from?: string; to?: string }[];
  /** Facts that could not be compared, with the reason (e.g. an SBOM missing on one side). */
  notCompared: string[];
}

export interface ReleaseDiff {
  from: ReleaseRef;
  to: ReleaseRef;
  images: ImageDiff[];
  summary: {
    added: number;
    removed: number;
    changed: number;
    unchanged: number;
    componentsAdded: number;
    componentsRemoved: number;
    componentsChanged: number;
  };
}
