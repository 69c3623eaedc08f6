#!/usr/bin/env bash
# Installs everything the release and the tests need on Debian or Ubuntu, then
# installs the workspace and builds it. Safe to run again. Elsewhere, or
# without root or sudo, it says exactly what to install and exits.
# `--plan` prints the system packages it would want and the browser, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
APT_PACKAGES=(docker-registry skopeo oci-image-tool apache2-utils git perl ca-certificates)
distro=$(. "${OS_RELEASE_FILE:-/etc/os-release}" 2>/dev/null && echo "${ID:-unknown}")

# The example images' shell is Debian 12's static busybox, copied into the store
# pinned by hash (examples/nix/packages.nix): on Debian its package, elsewhere
# the same .deb fetched from Debian and checked (Ubuntu's busybox is another binary).
BUSYBOX_DEB=busybox-static_1.35.0-4+deb12u1+b1_amd64.deb
BUSYBOX_DEB_SHA256=3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
BUSYBOX_SHA256=3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6
[ "$distro" = debian ] && APT_PACKAGES+=(busybox-static)

# One Nix only: a Nix already installed (the official installer, a CI action) is used as it is.
command -v nix >/dev/null || APT_PACKAGES+=(nix-bin)

# A browser for the page tests: CHROMIUM_PATH, or Debian's chromium package. Ubuntu's
# chromium-browser is a shim that installs a snap, which the tests cannot drive.
browser=""
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { echo "setup: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2; exit 1; }
  browser=$CHROMIUM_PATH
elif [ "$distro" = ubuntu ]; then
  for candidate in /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    [ -x "$candidate" ] && browser=$candidate && break
  done
  if [ -z "$browser" ]; then
    echo "setup: Ubuntu's chromium is a snap the tests cannot drive. Install Google Chrome (or any Chromium build that is not a snap)" >&2
    echo "  and run again with CHROMIUM_PATH set to it, e.g. CHROMIUM_PATH=/usr/bin/google-chrome pnpm setup" >&2
    exit 1
  fi
  echo "setup: tests will use $browser: run them with CHROMIUM_PATH=$browser (Ubuntu's chromium is a snap shim)"
else
  APT_PACKAGES+=(chromium)
  browser=/usr/bin/chromium
fi

if [ "${1:-}" = --plan ]; then
  echo "apt: ${APT_PACKAGES[*]}"
  echo "browser: $browser"
  if [ "$distro" = debian ]; then echo "busybox: apt busybox-static"; else echo "busybox: $BUSYBOX_DEB from deb.debian.org, sha256 $BUSYBOX_DEB_SHA256"; fi
  exit 0
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo -n); fi
  if { [ "$distro" = debian ] || [ "$distro" = ubuntu ]; } && command -v apt-get >/dev/null && "${sudo[@]}" true 2>/dev/null; then
    echo "setup: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: please install: ${missing[*]}" >&2
    echo "  Debian/Ubuntu: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    echo "  elsewhere: Nix (https://nixos.org/download), distribution registry v2, skopeo, Chromium, oci-image-tool, htpasswd" >&2
    exit 1
  fi
fi

if [ "$distro" != debian ] && ! echo "$BUSYBOX_SHA256  /bin/busybox" | sha256sum -c --status 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo -n); fi
  tmp=$(mktemp -d)
  echo "setup: installing Debian 12's static busybox as /bin/busybox (the example images' shell)"
  curl -fsSL -o "$tmp/$BUSYBOX_DEB" "https://deb.debian.org/debian/pool/main/b/busybox/$BUSYBOX_DEB" ||
    { echo "setup: could not fetch $BUSYBOX_DEB from deb.debian.org (or snapshot.debian.org); put its bin/busybox at /bin/busybox" >&2; exit 1; }
  echo "$BUSYBOX_DEB_SHA256  $tmp/$BUSYBOX_DEB" | sha256sum -c --status || { echo "setup: $BUSYBOX_DEB does not have sha256 $BUSYBOX_DEB_SHA256" >&2; exit 1; }
  dpkg-deb -x "$tmp/$BUSYBOX_DEB" "$tmp/root"
  "${sudo[@]}" install -m 0755 "$tmp/root/bin/busybox" /bin/busybox
  rm -rf "$tmp"
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  if [ -w "$(npm prefix -g)" ]; then npm install -g "pnpm@$PNPM_VERSION"; else sudo -n npm install -g "pnpm@$PNPM_VERSION"; fi
fi

pnpm install --frozen-lockfile
pnpm run build
echo "setup: done (browser for the page tests: $browser)"
