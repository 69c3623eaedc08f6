/**
 * "What changed" from the diff the release computed against its predecessor
 * (a ReleaseDiff): one short entry per image that was added, removed or
 * changed, in words a reader scans.
 */
import type { ImageDiff, ReleaseDiff, ReleaseManifest } from '@nixrel/core';
import { formatBytes } from '@nixrel/core';

export interface ChangeItem {
  name: string;
  status: ImageDiff['status'];
  statusText: string;
  /** Anchor of the image's details on this page, for images still in the release. */
  anchor?: string;
  lines: string[];
}

export interface ChangesView {
  available: boolean;
  previous?: string;
  /** One line for the summary, e.g. "2 changed, 1 added, 1 removed". */
  text: string;
  items: ChangeItem[];
  unchanged: string[];
}

// The first lines of a long component list, then a count: the full list is in the diff file.
const MAX_COMPONENT_LINES = 6;

// Digests and git revisions, cut to 12 hex digits as reviewers read them.
const short = (value: string | undefined) => (value ? value.replace(/^((?:sha256:)?[0-9a-f]{12})[0-9a-f]{28,}$/, '$1…') : 'none');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function componentLines(d: ImageDiff): string[] {
  const c = d.components;
  const lines = [
    ...c.changed.map((x) => `${x.name} ${x.from ?? '?'} → ${x.to ?? '?'}`),
    ...c.added.map((x) => `added ${x.name}${x.version ? ` ${x.version}` : ''}`),
    ...c.removed.map((x) => `removed ${x.name}${x.version ? ` ${x.version}` : ''}`),
  ];
  if (lines.length <= MAX_COMPONENT_LINES) return lines;
  return [...lines.slice(0, MAX_COMPONENT_LINES - 1), `and ${lines.length - MAX_COMPONENT_LINES + 1} more component changes`];
}

function changeLines(d: ImageDiff): string[] {
  if (d.status === 'removed') return [];
  if (d.status === 'added') return [plural(d.components.added.length, 'component')];
  const lines: string[] = [];
  if (d.versionChange) lines.push(`version ${d.versionChange.from} → ${d.versionChange.to}`);
  lines.push(...componentLines(d));
  for (const l of d.licences.added) lines.push(`licence added: ${l}`);
  for (const l of d.licences.removed) lines.push(`licence removed: ${l}`);
  if (d.closureSize) {
    const delta = d.closureSize.to - d.closureSize.from;
    lines.push(`closure ${delta > 0 ? '+' : ''}${formatBytes(delta)} (${formatBytes(d.closureSize.from)} → ${formatBytes(d.closureSize.to)})`);
  }
  if (d.layers) lines.push(`layers ${d.layers.from} → ${d.layers.to}`);
  for (const f of d.flakeInputs) lines.push(`flake input ${f.name}: ${short(f.from)} → ${short(f.to)}`);
  // A new digest goes without saying when something else changed; alone, it is the change.
  if (d.digestChange && lines.length === 0) lines.push(`rebuilt: digest ${short(d.digestChange.from)} → ${short(d.digestChange.to)}`);
  for (const n of d.notCompared) lines.push(`not compared: ${n}`);
  return lines;
}

const STATUS_TEXT: Record<ImageDiff['status'], string> = { added: 'new image', removed: 'removed', changed: 'changed', unchanged: 'unchanged' };

export function changesView(manifest: ReleaseManifest, diff: ReleaseDiff | undefined): ChangesView {
  if (!diff) {
    const text = manifest.previous ? `changes since ${manifest.previous.version} not recorded` : 'no earlier release recorded';
    const view: ChangesView = { available: false, text, items: [], unchanged: [] };
    if (manifest.previous) view.previous = manifest.previous.version;
    return view;
  }
  const s = diff.summary;
  const parts = [s.changed && `${s.changed} changed`, s.added && `${s.added} added`, s.removed && `${s.removed} removed`].filter(Boolean);
  const components = s.componentsAdded + s.componentsRemoved + s.componentsChanged;
  const inImages = new Set(manifest.images.map((i) => i.name));
  const items = diff.images
    .filter((d) => d.status !== 'unchanged')
    .map((d): ChangeItem => {
      const item: ChangeItem = { name: d.name, status: d.status, statusText: STATUS_TEXT[d.status], lines: changeLines(d) };
      if (inImages.has(d.name)) item.anchor = `image-${d.name}`;
      return item;
    });
  return {
    available: true,
    previous: diff.from.version,
    text: parts.length === 0 ? 'no image changed' : `${parts.join(', ')}${components > 0 ? `; ${components} component changes` : ''}`,
    items,
    unchanged: diff.images.filter((d) => d.status === 'unchanged').map((d) => d.name),
  };
}
