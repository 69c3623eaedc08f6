/** A ReleaseDiff as text: one table row per image, then the changes of each image that has any. */
import type { ImageDiff, ReleaseDiff } from '@nixrel/core';
import { formatBytes } from '@nixrel/core';

const shortDigest = (d: string | undefined) => (d ? d.replace(/^sha256:([0-9a-f]{12})[0-9a-f]*$/, 'sha256:$1') : 'none');
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

function componentCounts(d: ImageDiff): string {
  const c = d.components;
  if (d.status === 'removed') return '-';
  if (d.status === 'added') return `${c.added.length} new`;
  const parts = [c.added.length && `+${c.added.length}`, c.removed.length && `-${c.removed.length}`, c.changed.length && `~${c.changed.length}`].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : '=';
}

function row(d: ImageDiff): string[] {
  const version = d.versionChange ? `${d.versionChange.from} -> ${d.versionChange.to}` : (d.version ?? '');
  const digest = d.digestChange ? `${shortDigest(d.digestChange.from)} -> ${shortDigest(d.digestChange.to)}` : shortDigest(d.digest);
  const closure = d.closureSize ? signed(d.closureSize.to - d.closureSize.from).replace(/^([+-]?)(\d+)$/, (_, s, v) => `${s}${formatBytes(Number(v))}`) : '=';
  const layers = d.layers ? signed(d.layers.to - d.layers.from) : '=';
  const gone = d.status === 'added' || d.status === 'removed';
  return [d.name, d.status, version, digest, componentCounts(d), gone ? '-' : closure, gone ? '-' : layers];
}

function detail(d: ImageDiff): string[] {
  const lines: string[] = [];
  const line = (label: string, text: string) => lines.push(`  ${label.padEnd(11)} ${text}`);
  if (d.digestChange) line('digest', `${d.digestChange.from ?? 'none'} -> ${d.digestChange.to ?? 'none'}`);
  if (d.versionChange) line('version', `${d.versionChange.from} -> ${d.versionChange.to}`);
  for (const c of d.components.added) line('component', `+ ${c.name}${c.version ? ` ${c.version}` : ''}`);
  for (const c of d.components.removed) line('component', `- ${c.name}${c.version ? ` ${c.version}` : ''}`);
  for (const c of d.components.changed) line('component', `~ ${c.name} ${c.from ?? '?'} -> ${c.to ?? '?'}`);
  for (const l of d.licences.added) line('licence', `+ ${l}`);
  for (const l of d.licences.removed) line('licence', `- ${l}`);
  if (d.closureSize) line('closure', `${formatBytes(d.closureSize.from)} -> ${formatBytes(d.closureSize.to)} (${signed(d.closureSize.to - d.closureSize.from)} bytes)`);
  if (d.layers) line('layers', `${d.layers.from} -> ${d.layers.to}`);
  for (const f of d.flakeInputs) line('flake input', `${f.name} ${f.from ?? 'none'} -> ${f.to ?? 'none'}`);
  for (const t of d.tags.added) line('tag', `+ ${t}`);
  for (const t of d.tags.removed) line('tag', `- ${t}`);
  for (const n of d.notCompared) line('not compared', n);
  return lines;
}

export function formatDiff(diff: ReleaseDiff): string {
  const s = diff.summary;
  const out: string[] = [
    `${diff.from.version} -> ${diff.to.version}`,
    `images: ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged; components: ${s.componentsAdded} added, ${s.componentsRemoved} removed, ${s.componentsChanged} changed version`,
    '',
    table([['IMAGE', 'CHANGE', 'VERSION', 'DIGEST', 'COMPONENTS', 'CLOSURE', 'LAYERS'], ...diff.images.map(row)]),
  ];
  for (const d of diff.images) {
    if (d.status === 'unchanged' || d.status === 'removed') continue;
    const lines = d.status === 'added' ? [] : detail(d);
    if (lines.length === 0) continue;
    out.push('', `${d.name}:`, ...lines);
  }
  return out.join('\n');
}
