/**
 * Two releases -> what changed, image by image. Pure: the facts of each side
 * (manifest, SBOM components, flake inputs) are read by ./release-contents.ts.
 */
import type { ComponentChange, ComponentRef, ImageDiff, ImageRecord, ReleaseDiff } from '@nixrel/core';
import type { ImageContents, ReleaseContents } from './release-contents.js';

/** `pkg:generic/zlib@1.3?x=y` -> `pkg:generic/zlib`: the identity of a component across versions. */
export function purlWithoutVersion(purl: string): string {
  const cut = purl.search(/[@?#]/);
  return cut < 0 ? purl : purl.slice(0, cut);
}

function sorted<T>(items: T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}

/**
 * Pairs components by purl without version, then the rest by name. Within one
 * key, equal versions pair first; what is left pairs in order as a version change.
 */
export function diffComponents(before: ComponentRef[], after: ComponentRef[]): ImageDiff['components'] {
  const added: ComponentRef[] = [];
  const removed: ComponentRef[] = [];
  const changed: ComponentChange[] = [];
  let left = [...before];
  let right = [...after];
  for (const key of [(c: ComponentRef) => (c.purl ? `purl:${purlWithoutVersion(c.purl)}` : undefined), (c: ComponentRef) => `name:${c.name}`]) {
    const groups = new Map<string, { a: ComponentRef[]; b: ComponentRef[] }>();
    const restA: ComponentRef[] = [];
    const restB: ComponentRef[] = [];
    for (const [list, side, rest] of [
      [left, 'a', restA],
      [right, 'b', restB],
    ] as const) {
      for (const c of list) {
        const k = key(c);
        if (k === undefined) rest.push(c);
        else {
          const g = groups.get(k) ?? { a: [], b: [] };
          g[side].push(c);
          groups.set(k, g);
        }
      }
    }
    for (const { a, b } of groups.values()) {
      const unpairedA = a.filter((x) => {
        const i = b.findIndex((y) => y.version === x.version);
        if (i < 0) return true;
        b.splice(i, 1);
        return false;
      });
      while (unpairedA.length > 0 && b.length > 0) {
        const x = unpairedA.shift()!;
        const y = b.shift()!;
        const change: ComponentChange = { name: y.name };
        if (x.version !== undefined) change.from = x.version;
        if (y.version !== undefined) change.to = y.version;
        if (y.purl) change.purl = y.purl;
        changed.push(change);
      }
      restA.push(...unpairedA);
      restB.push(...b);
    }
    left = restA;
    right = restB;
  }
  removed.push(...left);
  added.push(...right);
  const byName = (c: ComponentRef | ComponentChange) => `${c.name}\u0000${'version' in c ? (c.version ?? '') : ''}`;
  return { added: sorted(added, byName), removed: sorted(removed, byName), changed: sorted(changed, byName) };
}

function setDiff(before: Iterable<string>, after: Iterable<string>): { added: string[]; removed: string[] } {
  const a = new Set(before);
  const b = new Set(after);
  return { added: [...b].filter((x) => !a.has(x)).sort(), removed: [...a].filter((x) => !b.has(x)).sort() };
}

function emptyDiff(name: string, status: ImageDiff['status']): ImageDiff {
  return {
    name,
    status,
    tags: { added: [], removed: [] },
    components: { added: [], removed: [], changed: [] },
    licences: { added: [], removed: [] },
    flakeInputs: [],
    notCompared: [],
  };
}

function describeSide(image: ImageRecord, d: ImageDiff): void {
  d.version = image.version;
  if (image.digest) d.digest = image.digest;
}

function diffImage(a: ImageRecord, b: ImageRecord, ca: ImageContents, cb: ImageContents): ImageDiff {
  const d = emptyDiff(b.name, 'unchanged');
  describeSide(b, d);
  if (a.digest !== b.digest) d.digestChange = { from: a.digest, to: b.digest };
  if (a.version !== b.version) d.versionChange = { from: a.version, to: b.version };
  d.tags = setDiff(a.tags, b.tags);
  d.licences = setDiff(Object.keys(a.sbom?.licences ?? {}), Object.keys(b.sbom?.licences ?? {}));
  if (a.layers.length > 0 && b.layers.length > 0 && a.layers.length !== b.layers.length) d.layers = { from: a.layers.length, to: b.layers.length };

  if (typeof ca.sbom === 'string' || typeof cb.sbom === 'string') {
    d.notCompared.push(`components: ${typeof ca.sbom === 'string' ? ca.sbom : cb.sbom}`);
  } else {
    d.components = diffComponents(ca.sbom.components, cb.sbom.components);
    if (ca.sbom.closureSize !== cb.sbom.closureSize) d.closureSize = { from: ca.sbom.closureSize, to: cb.sbom.closureSize };
  }
  if (typeof ca.flakeInputs === 'string' || typeof cb.flakeInputs === 'string') {
    d.notCompared.push(`flake.lock inputs: ${typeof ca.flakeInputs === 'string' ? ca.flakeInputs : cb.flakeInputs}`);
  } else {
    const names = [...new Set([...ca.flakeInputs.keys(), ...cb.flakeInputs.keys()])].sort();
    for (const name of names) {
      const from = ca.flakeInputs.get(name);
      const to = cb.flakeInputs.get(name);
      if (from === to) continue;
      const change: ImageDiff['flakeInputs'][number] = { name };
      if (from !== undefined) change.from = from;
      if (to !== undefined) change.to = to;
      d.flakeInputs.push(change);
    }
  }
  const { components: c } = d;
  const changed =
    d.digestChange || d.versionChange || d.layers || d.closureSize || d.flakeInputs.length > 0 || c.added.length + c.removed.length + c.changed.length > 0 || d.licences.added.length + d.licences.removed.length > 0;
  // Tags alone do not make an image changed: every release adds its own tag.
  if (changed) d.status = 'changed';
  return d;
}

export function diffReleases(before: ReleaseContents, after: ReleaseContents): ReleaseDiff {
  const ref = (r: ReleaseContents) => ({ collection: r.manifest.collection, version: r.manifest.version, date: r.manifest.date });
  const oldImages = new Map(before.manifest.images.map((i) => [i.name, i]));
  const newImages = new Map(after.manifest.images.map((i) => [i.name, i]));
  const images: ImageDiff[] = [];
  for (const name of [...new Set([...oldImages.keys(), ...newImages.keys()])].sort()) {
    const a = oldImages.get(name);
    const b = newImages.get(name);
    if (a && b) images.push(diffImage(a, b, before.images.get(name)!, after.images.get(name)!));
    else if (b) {
      const d = emptyDiff(name, 'added');
      describeSide(b, d);
      const sbom = after.images.get(name)!.sbom;
      if (typeof sbom !== 'string') d.components.added = sbom.components;
      images.push(d);
    } else if (a) {
      const d = emptyDiff(name, 'removed');
      describeSide(a, d);
      images.push(d);
    }
  }
  const count = (s: ImageDiff['status']) => images.filter((i) => i.status === s).length;
  const existing = images.filter((i) => i.status === 'changed' || i.status === 'unchanged');
  const sum = (f: (i: ImageDiff) => number) => existing.reduce((n, i) => n + f(i), 0);
  return {
    from: ref(before),
    to: ref(after),
    images,
    summary: {
      added: count('added'),
      removed: count('removed'),
      changed: count('changed'),
      unchanged: count('unchanged'),
      componentsAdded: sum((i) => i.components.added.length),
      componentsRemoved: sum((i) => i.components.removed.length),
      componentsChanged: sum((i) => i.components.changed.length),
    },
  };
}
