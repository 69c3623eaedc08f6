#!/usr/bin/env bash
# usage: scripts/release/github-release.sh VERSION FILE
# Makes the GitHub release of tag VERSION carry FILE (the audit pack). Safe to
# re-run: an existing release gets the file replaced, not a second release.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/release/github-release.sh VERSION FILE" >&2; exit 2; }
version=$1 file=$2
[ -f "$file" ] || { echo "github-release: $file not found" >&2; exit 1; }
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
if gh release view "$version" --repo "$repo" >/dev/null 2>&1; then
  gh release upload "$version" "$file" --repo "$repo" --clobber
  echo "release $version: $(basename "$file") replaced"
else
  page="https://${repo%%/*}.github.io/${repo#*/}/${COLLECTION:-sbomify}/$version/"
  gh release create "$version" "$file" --repo "$repo" --verify-tag --title "$version" --notes "Provenance page: $page"
  echo "release $version: created with $(basename "$file")"
fi
