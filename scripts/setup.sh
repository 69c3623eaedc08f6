#!/usr/bin/env bash
# Installs everything the release and the tests need on a fresh Debian machine,
# then installs the workspace and builds it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# busybox-static: the example images' shell, copied into the store by hash (examples/nix/packages.nix).
APT_PACKAGES=(nix-bin docker-registry skopeo chromium oci-image-tool apache2-utils git perl ca-certificates busybox-static)
PNPM_VERSION=12.21.0

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: please install: ${missing[*]}" >&2
    echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
    echo "  elsewhere: Nix (https://nixos.org/download), distribution registry v2, skopeo, Chromium, oci-image-tool" >&2
    exit 1
  fi
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION"
fi

pnpm install --frozen-lockfile
pnpm run build
echo "setup: done"
