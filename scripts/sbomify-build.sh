#!/usr/bin/env bash
# Builds every sbomify image and its SBOM input (the flake's checks) one by one,
# so a failure names the image, then runs the whole `nix flake check` and the
# release dry run. Needs network (nixpkgs). Used by ci.yml; runs the same locally.
set -euo pipefail
cd "$(dirname "$0")/.."

system=$(nix eval --raw --impure --expr builtins.currentSystem)
checks=$(nix eval --json --no-update-lock-file ".#checks.$system" --apply builtins.attrNames | tr -d '[]"' | tr ',' ' ')
failed=()
for check in $checks; do
  image=${check%-sbom-input}
  what=$([ "$image" = "$check" ] && echo "image" || echo "SBOM input")
  echo "::group::$image: $what"
  if nix build --no-link --print-build-logs --no-update-lock-file ".#checks.$system.$check"; then
    echo "::endgroup::"
  else
    echo "::endgroup::"
    echo "::error title=sbomify image $image::the $what of $image failed to build (.#checks.$system.$check)"
    failed+=("$image ($what)")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "sbomify-build: failed: ${failed[*]}" >&2
  exit 1
fi

nix flake check --print-build-logs --no-update-lock-file
pnpm release --collection sbomify --dry-run
