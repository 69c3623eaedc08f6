/**
 * A deterministic synthetic closure export of any size: derivations with 1-3
 * outputs (some of them documentation), references to earlier paths, GitHub
 * and other sources, licences, patches. Used by the golden-output test and by
 * bench/sbom.ts, so both look at the same shape of closure.
 */
import { createHash } from 'node:crypto';
import type { ClosureExport, ClosurePath, DerivationInfo } from '@nixrel/core';
import { nix32Encode } from '../src/nix-hash.js';

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

// Deterministic pseudo-random numbers, so every run measures the same closure.
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}

function storePath(name: string): string {
  const d = createHash('sha256').update(name).digest();
  let h = '';
  for (let i = 0; i < 32; i++) h += NIX32[d[i]! % 32];
  return `/nix/store/${h}-${name}`;
}

const LICENCES = [{ spdxId: 'MIT' }, { spdxId: 'GPL-2.0-or-later' }, { spdxId: 'Apache-2.0' }, { fullName: 'Unfree' }, 'BSD-3-Clause'];

/** Derivations with 1-3 outputs (some of them documentation), references to earlier paths, metadata. */
export function syntheticClosure(count: number): ClosureExport {
  seed = 42;
  const paths: ClosurePath[] = [];
  const derivations: DerivationInfo[] = [];
  let i = 0;
  while (paths.length < count) {
    const name = `pkg${i}`;
    const version = `${i % 7}.${i % 13}.${i % 5}`;
    const outNames = ['out', ...(random() < 0.3 ? ['lib'] : []), ...(random() < 0.2 ? ['man'] : [])];
    const outputs: Record<string, string> = {};
    for (const o of outNames) outputs[o] = storePath(`${name}-${version}${o === 'out' ? '' : `-${o}`}`);
    for (const o of outNames) {
      if (paths.length >= count) break;
      const refs = new Set<string>();
      const n = Math.floor(random() * 8);
      for (let k = 0; k < n && paths.length > 0; k++) refs.add(paths[Math.floor(random() * paths.length)]!.path);
      if (random() < 0.5) refs.add(outputs[o]!); // self reference
      paths.push({
        path: outputs[o]!,
        references: [...refs],
        narHash: `sha256:${nix32Encode(createHash('sha256').update(outputs[o]!).digest())}`,
        narSize: Math.floor(random() * 1e7),
        deriver: storePath(`${name}-${version}.drv`),
      });
    }
    if (random() < 0.9) {
      const github = random() < 0.5;
      derivations.push({
        drvPath: storePath(`${name}-${version}.drv`),
        name: `${name}-${version}`,
        pname: name,
        version,
        outputs,
        meta: {
          description: `Synthetic package ${i}`,
          homepage: `https://example.org/${name}`,
          license: random() < 0.3 ? [LICENCES[i % 5]!, LICENCES[(i + 1) % 5]!] : LICENCES[i % 5]!,
        },
        src: github
          ? { urls: [`https://github.com/org${i % 50}/${name}/archive/v${version}.tar.gz`], hash: `sha256-${createHash('sha256').update(name).digest('base64')}` }
          : { urls: [`https://downloads.example.org/${name}-${version}.tar.gz`], hash: `sha256-${createHash('sha256').update(name).digest('base64')}` },
        ...(random() < 0.2 ? { patches: [storePath(`${name}-fix.patch`)] } : {}),
      });
    }
    i++;
  }
  return {
    version: 1,
    image: {
      name: 'synthetic',
      version: '1.0.0',
      metadata: { title: 'synthetic', description: 'Synthetic closure', licenses: 'MIT', vendor: 'Bench Org' },
      roots: paths.slice(-10).map((p) => p.path),
    },
    paths,
    derivations,
  };
}
