/**
 * The shell commands shown on the page. Each is built from the manifest's real
 * values and every value is shell-quoted, so a copied command runs exactly
 * what is displayed, whatever the manifest contains.
 */
import { CYCLONEDX_BOM, SLSA_PROVENANCE_V1 } from '@nixrel/core';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** cosign's `--type` names for the predicate types this release attests. */
export const COSIGN_TYPES: Record<string, string> = {
  [SLSA_PROVENANCE_V1]: 'slsaprovenance1',
  [CYCLONEDX_BOM]: 'cyclonedx',
};

const SHELL_SAFE = /^[A-Za-z0-9@%_+=:,./-]+$/;

/** POSIX shell quoting: bare when only safe characters, else single quotes. */
export function shellQuote(value: string): string {
  if (SHELL_SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** One command per line group: `cmd \` continuation lines, two-space indent. */
export function formatCommand(words: (string | string[])[]): string {
  const lines: string[] = [];
  for (const w of words) {
    const line = Array.isArray(w) ? w.map(shellQuote).join(' ') : shellQuote(w);
    lines.push(line);
  }
  const [first, ...rest] = lines;
  if (rest.length === 0) return first ?? '';
  return [first, ...rest.map((l) => `  ${l}`)].join(' \\\n');
}

/** How a signature or attestation is checked: by certificate identity or by key. */
export type SignerCheck =
  | { mode: 'keyless'; identity: string; issuer: string; trustedRoot: boolean }
  | { mode: 'key'; publicKey: string; ignoreTlog: boolean; trustedRoot: boolean };

function signerFlags(check: SignerCheck): string[][] {
  const flags: string[][] = [];
  if (check.mode === 'keyless') {
    flags.push(['--certificate-identity', check.identity], ['--certificate-oidc-issuer', check.issuer]);
  } else {
    flags.push(['--key', check.publicKey]);
    // Without a Rekor entry cosign must be told not to look for one.
    if (check.ignoreTlog) flags.push(['--insecure-ignore-tlog=true']);
  }
  // A private Sigstore instance is only trusted through its trusted root.
  if (check.trustedRoot) flags.push(['--trusted-root', 'trusted_root.json']);
  return flags;
}

export function cosignVerify(reference: string, check: SignerCheck): string {
  return formatCommand([['cosign', 'verify'], ...signerFlags(check), reference]);
}

export function cosignVerifyAttestation(reference: string, cosignType: string, check: SignerCheck): string {
  return formatCommand([['cosign', 'verify-attestation', '--type', cosignType], ...signerFlags(check), reference]);
}

export function ghAttestationVerify(reference: string, repoSlug: string, predicateType: string, signerWorkflow?: string): string {
  const words: (string | string[])[] = [['gh', 'attestation', 'verify', `oci://${reference}`], ['--repo', repoSlug]];
  if (signerWorkflow) words.push(['--signer-workflow', signerWorkflow]);
  if (predicateType !== SLSA_PROVENANCE_V1) words.push(['--predicate-type', predicateType]);
  words.push(['--bundle-from-oci']);
  return formatCommand(words);
}

/** The policy `pnpm verify` pins: the signer identity and issuer, or the key (never taken from the release). */
function projectPolicyFlags(check: SignerCheck): string[][] {
  return check.mode === 'keyless'
    ? [
        ['--certificate-identity', check.identity],
        ['--certificate-oidc-issuer', check.issuer],
        ['--trusted-root', 'trusted_root.json'],
      ]
    : [['--key', check.publicKey]];
}

/** This project's verifier over the whole release (every file release.json links, bound to its signature). */
export function projectVerifyManifest(check: SignerCheck): string {
  return formatCommand([['pnpm', 'verify', '--manifest', 'release.json'], ...projectPolicyFlags(check)]);
}

export function projectVerifyReference(reference: string, cosignType: string, check: SignerCheck): string {
  return formatCommand([['pnpm', 'verify', reference, '--type', cosignType], ...projectPolicyFlags(check)]);
}

export function projectReproduce(): string {
  return formatCommand([['pnpm', 'release', 'reproduce', '--manifest', 'release.json']]);
}

/** `nix build` of images from the pinned source; prints their out paths as JSON. */
export function nixBuild(flakeRef: string, attributes: string[]): string {
  return formatCommand([['nix', 'build', '--no-link', '--json'], ...attributes.map((a) => `${flakeRef}#${a}`)]);
}

/**
 * A flake reference to the release's source at its commit: `github:` for
 * GitHub (a tarball fetch), `git+<url>?rev=` for any other https repository.
 */
export function sourceFlakeRef(repoUrl: string | undefined, githubSlug: string | undefined, commit: string, flakeDir: string | undefined): string | undefined {
  const dir = flakeDir && flakeDir !== '.' ? flakeDir.replace(/\/+$/, '') : undefined;
  if (githubSlug) return `github:${githubSlug}/${commit}${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`;
  if (!repoUrl) return undefined;
  const params = new URLSearchParams({ rev: commit });
  if (dir) params.set('dir', dir);
  return `git+${repoUrl.replace(/\/+$/, '')}?${params.toString()}`;
}

/** `owner/repo/.github/workflows/<file>` of a GitHub workflow identity, for `--signer-workflow`. */
export function signerWorkflow(identity: string): string | undefined {
  const m = /^https:\/\/github\.com\/([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\.github\/workflows\/[A-Za-z0-9_.-]+)@/.exec(identity);
  return m?.[1];
}
