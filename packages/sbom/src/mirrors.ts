/**
 * nixpkgs writes many source URLs as `mirror://<site>/<path>`, which only its
 * fetcher understands. For an SBOM reader they become the site's canonical
 * download host (the first entry of nixpkgs' fetchurl mirror list).
 */
const MIRRORS: Record<string, string> = {
  apache: 'https://dlcdn.apache.org/',
  cpan: 'https://cpan.metacpan.org/',
  debian: 'https://deb.debian.org/debian/',
  gnome: 'https://download.gnome.org/',
  gnu: 'https://ftpmirror.gnu.org/',
  kernel: 'https://cdn.kernel.org/pub/',
  savannah: 'https://download.savannah.gnu.org/releases/',
  sourceforge: 'https://downloads.sourceforge.net/',
  xorg: 'https://xorg.freedesktop.org/releases/',
};

/** The URL with a known `mirror://` prefix resolved; anything else unchanged. */
export function resolveMirror(url: string): string {
  const m = /^mirror:\/\/([^/]+)\/(.*)$/.exec(url);
  const base = m ? MIRRORS[m[1]!] : undefined;
  return base ? base + m![2] : url;
}
