/** Small hand-made closure exports for unit tests. */
import { createHash } from 'node:crypto';
import type { ClosureExport, ClosurePath, DerivationInfo } from '@nixrel/core';
import { nix32Encode } from '../src/nix-hash.js';

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** A store path with a hash derived from `seed`, so fixtures are stable. */
export function storePath(name: string, seed = name): string {
  const digest = createHash('sha256').update(seed).digest();
  let hash = '';
  for (let i = 0; i < 32; i++) hash += NIX32[digest[i]! % 32];
  return `/nix/store/${hash}-${name}`;
}

export function narHash(seed: string): string {
  return `sha256:${nix32Encode(createHash('sha256').update(seed).digest())}`;
}

export function pathEntry(path: string, references: string[] = [], extra: Partial<ClosurePath> = {}): ClosurePath {
  return { path, references, narHash: narHash(path), narSize: 1000 + path.length, ...extra };
}

export function closure(opts: { paths: ClosurePath[]; derivations?: DerivationInfo[]; roots?: string[]; vendor?: string }): ClosureExport {
  return {
    version: 1,
    image: {
      name: 'hello',
      version: '2.12.1',
      metadata: {
        title: 'hello',
        description: 'GNU Hello in a container',
        licenses: 'GPL-3.0-or-later',
        ...(opts.vendor === undefined ? { vendor: 'Example Org' } : opts.vendor ? { vendor: opts.vendor } : {}),
        homepage: 'https://example.org/hello',
      },
      roots: opts.roots ?? [opts.paths[0]!.path],
    },
    paths: opts.paths,
    derivations: opts.derivations ?? [],
  };
}

/** hello (out, man, doc) -> glibc (out, lib merged) -> a plain file. */
export function helloClosure(): ClosureExport {
  const hello = storePath('hello-2.12.1');
  const helloMan = storePath('hello-2.12.1-man');
  const glibc = storePath('glibc-2.38');
  const glibcBin = storePath('glibc-2.38-bin');
  const file = storePath('config.json');
  return closure({
    paths: [
      pathEntry(hello, [hello, glibc, helloMan, file]),
      pathEntry(helloMan, []),
      pathEntry(glibc, [glibc, glibcBin]),
      pathEntry(glibcBin, [glibc]),
      pathEntry(file, []),
    ],
    derivations: [
      {
        drvPath: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-hello-2.12.1.drv',
        name: 'hello-2.12.1',
        pname: 'hello',
        version: '2.12.1',
        outputs: { out: hello, man: helloMan, doc: storePath('hello-2.12.1-doc') },
        meta: {
          description: 'A program that produces a familiar, friendly greeting',
          homepage: 'https://www.gnu.org/software/hello/manual/',
          license: { spdxId: 'GPL-3.0-or-later', shortName: 'gpl3Plus', fullName: 'GNU General Public License v3.0 or later' },
        },
        src: { urls: ['mirror://gnu/hello/hello-2.12.1.tar.gz'], hash: 'sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA=' },
        patches: ['/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-fix.patch'],
      },
      {
        drvPath: '/nix/store/cccccccccccccccccccccccccccccccc-glibc-2.38.drv',
        name: 'glibc-2.38',
        pname: 'glibc',
        version: '2.38',
        outputs: { out: glibc, bin: glibcBin },
        meta: { license: [{ spdxId: 'LGPL-2.1-or-later' }, { spdxId: 'GPL-2.0-or-later' }], homepage: ['https://www.gnu.org/software/libc/'] },
        src: { urls: ['https://github.com/bminor/glibc/archive/glibc-2.38.tar.gz'] },
      },
    ],
  });
}
