/**
 * Groups a closure's store paths into packages: the outputs of one derivation
 * become one package (one SBOM component), documentation outputs are left
 * out, and a store path Nix knows no derivation for is a package of its own.
 */
import type { ClosureExport, ClosurePath, DerivationInfo } from '@nixrel/core';

/** Outputs that hold documentation only; they are not part of what runs. */
export const EXCLUDED_OUTPUTS: ReadonlySet<string> = new Set(['doc', 'man', 'info', 'devdoc']);

export interface PackageOutput {
  /** Output name (`out`, `lib`, `bin`...), undefined for a path without derivation metadata. */
  name?: string;
  path: ClosurePath;
}

export interface Package {
  /** The main output's store path; used as the component's bom-ref. */
  ref: string;
  derivation?: DerivationInfo;
  /** Outputs in the closure, main output first, then by name. */
  outputs: PackageOutput[];
  /** Refs of the packages this one references, sorted, without itself. */
  dependsOn: string[];
}

export interface PackageGraph {
  packages: Package[];
  /** Refs of the packages holding the image's roots, sorted. */
  roots: string[];
  /** Closure paths left out (documentation outputs). */
  excluded: string[];
}

// Plain code-unit order: the same on every machine, unlike localeCompare.
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mainFirst(a: PackageOutput, b: PackageOutput): number {
  if (a.name === 'out') return -1;
  if (b.name === 'out') return 1;
  return byCodeUnit(a.name ?? '', b.name ?? '') || byCodeUnit(a.path.path, b.path.path);
}

export function groupPackages(closure: ClosureExport): PackageGraph {
  // Output path -> the derivation that produced it. When two entries claim the
  // same path (a fixed-output path, or the same derivation listed twice), the
  // first one in the export wins, so the result only depends on the file.
  const producer = new Map<string, { derivation: DerivationInfo; index: number; output: string }>();
  closure.derivations.forEach((derivation, index) => {
    for (const [output, path] of Object.entries(derivation.outputs)) {
      if (!producer.has(path)) producer.set(path, { derivation, index, output });
    }
  });

  const groups = new Map<string, { derivation?: DerivationInfo; outputs: PackageOutput[] }>();
  const excluded: string[] = [];
  for (const path of closure.paths) {
    const made = producer.get(path.path);
    if (made && EXCLUDED_OUTPUTS.has(made.output)) {
      excluded.push(path.path);
      continue;
    }
    const key = made ? `drv:${made.derivation.drvPath ?? made.index}` : `path:${path.path}`;
    const group = groups.get(key) ?? (made ? { derivation: made.derivation, outputs: [] } : { outputs: [] });
    group.outputs.push(made ? { name: made.output, path } : { path });
    groups.set(key, group);
  }

  const refOfPath = new Map<string, string>();
  const packages: Package[] = [];
  for (const group of groups.values()) {
    group.outputs.sort(mainFirst);
    const ref = group.outputs[0]!.path.path;
    for (const o of group.outputs) refOfPath.set(o.path.path, ref);
    packages.push({
      ref,
      ...(group.derivation ? { derivation: group.derivation } : {}),
      outputs: group.outputs,
      dependsOn: [],
    });
  }
  for (const pkg of packages) {
    const deps = new Set<string>();
    for (const o of pkg.outputs) {
      for (const r of o.path.references) {
        const dep = refOfPath.get(r);
        // Self references (and references between merged outputs) carry no information.
        if (dep !== undefined && dep !== pkg.ref) deps.add(dep);
      }
    }
    pkg.dependsOn = [...deps].sort(byCodeUnit);
  }
  packages.sort((a, b) => byCodeUnit(a.ref, b.ref));
  const roots = [...new Set(closure.image.roots.map((r) => refOfPath.get(r)).filter((r): r is string => r !== undefined))];
  return { packages, roots: roots.sort(byCodeUnit), excluded: excluded.sort(byCodeUnit) };
}
