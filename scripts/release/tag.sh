#!/usr/bin/env bash
# usage: scripts/release/tag.sh VERSION COMMIT
# Tags COMMIT as VERSION on origin. Safe to re-run: a tag already on COMMIT is
# kept; a tag on another commit stops with a message and exit 1.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/release/tag.sh VERSION COMMIT" >&2; exit 2; }
version=$1 commit=$2
# shellcheck source=scripts/release/git-auth.sh
. "$(dirname "$0")/git-auth.sh"

# An annotated tag is listed twice; its `^{}` line is the commit it points at.
remote=$(git ls-remote --tags origin "refs/tags/$version" "refs/tags/$version^{}")
tagged=$(printf '%s\n' "$remote" | awk '$2 ~ /\^\{\}$/ { peeled = $1 } NF { plain = $1 } END { print (peeled != "" ? peeled : plain) }')
if [ -z "$tagged" ]; then
  git tag -f "$version" "$commit" >/dev/null
  git push -q origin "refs/tags/$version"
  echo "tag $version: created on $commit"
elif [ "$tagged" = "$commit" ]; then
  echo "tag $version: already on $commit, kept"
else
  echo "tag $version already points at $tagged, not at the release commit $commit: a version names one commit; cut a new version instead" >&2
  exit 1
fi
