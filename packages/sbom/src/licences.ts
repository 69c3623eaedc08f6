/**
 * nixpkgs `meta.license` -> CycloneDX licences.
 *
 * nixpkgs documents a list as "parts of the package are licensed differently",
 * so every entry applies: a list becomes one SPDX expression joined with AND.
 * CycloneDX cannot mix an expression with named licences, so a list holding a
 * licence without an SPDX id becomes separate licence entries instead (all
 * applying, as in nixpkgs). See docs/adr/0003-sbom-purl-and-licence-rules.md.
 */
import { Models, SPDX } from '@cyclonedx/cyclonedx-library';
import type { NixLicense } from '@nixrel/core';
import { conjunction, parseSpdxExpression, type SpdxLicence } from './spdx-expression.js';

type Term = SpdxLicence | { kind: 'named'; name: string; url?: string };

export type LicenceField = NixLicense | string | (NixLicense | string)[] | undefined | null;

function termOf(entry: NixLicense | string): Term | undefined {
  if (typeof entry === 'string') {
    const text = entry.trim();
    if (text === '') return undefined;
    const spdx = parseSpdxExpression(text);
    if (spdx) return spdx;
    // nixpkgs also allows a space separated list of ids in one string.
    const words = text.split(/\s+/);
    if (words.length > 1) {
      const ids = words.map((w) => parseSpdxExpression(w));
      if (ids.every((t) => t !== undefined)) return conjunction(ids as SpdxLicence[]);
    }
    return { kind: 'named', name: text };
  }
  const id = entry.spdxId ? SPDX.fixupSpdxId(entry.spdxId) : undefined;
  if (id) return { kind: 'id', id };
  const name = entry.fullName ?? entry.shortName ?? entry.spdxId;
  if (!name) return undefined;
  return entry.url ? { kind: 'named', name, url: entry.url } : { kind: 'named', name };
}

function toModel(term: Term): Models.License {
  switch (term.kind) {
    case 'id':
      return new Models.SpdxLicense(term.id);
    case 'expression':
      return new Models.LicenseExpression(term.expression);
    case 'named':
      return new Models.NamedLicense(term.name, term.url ? { url: term.url } : {});
  }
}

/** Licences in the order given, duplicates dropped; empty when nothing is known. */
export function licencesOf(field: LicenceField): Models.License[] {
  if (field === undefined || field === null) return [];
  const entries = Array.isArray(field) ? field : [field];
  const terms = entries.map(termOf).filter((t): t is Term => t !== undefined);
  if (terms.length === 0) return [];
  if (terms.every((t) => t.kind !== 'named')) return [toModel(conjunction(terms as SpdxLicence[]))];
  const seen = new Set<string>();
  const out: Models.License[] = [];
  for (const term of terms) {
    const key = term.kind === 'id' ? term.id : term.kind === 'expression' ? term.expression : term.name;
    if (seen.has(key)) continue;
    seen.add(key);
    // An expression cannot sit next to named licences: keep its text as a name.
    out.push(toModel(term.kind === 'expression' ? { kind: 'named', name: term.expression } : term));
  }
  return out;
}

/** One line per licence set, as the release record counts them: the expression, id or names joined by AND. */
export function licenceSummary(licences: Iterable<Models.License>): string | undefined {
  const parts: string[] = [];
  for (const l of licences) {
    if (l instanceof Models.LicenseExpression) parts.push(l.expression);
    else if (l instanceof Models.SpdxLicense) parts.push(l.id);
    else parts.push(l.name);
  }
  return parts.length === 0 ? undefined : parts.join(' AND ');
}
