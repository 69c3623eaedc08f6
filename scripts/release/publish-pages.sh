#!/usr/bin/env bash
# usage: scripts/release/publish-pages.sh SITE_DIR MESSAGE
# Copies SITE_DIR (a release's page, its audit pack, the regenerated index)
# onto the gh-pages branch of origin, with .nojekyll so GitHub Pages serves the
# files as they are (provenance.md stays Markdown). Creates the branch on the
# first release; never deletes what earlier releases published. Safe to
# re-run: an unchanged site commits nothing.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: scripts/release/publish-pages.sh SITE_DIR MESSAGE" >&2; exit 2; }
site=$(cd "$1" && pwd) message=$2
# shellcheck source=scripts/release/git-auth.sh
. "$(dirname "$0")/git-auth.sh"

work=$(mktemp -d)
trap 'git worktree remove --force "$work/pages" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
if git fetch -q origin "+refs/heads/gh-pages:refs/remotes/origin/gh-pages" 2>/dev/null; then
  git worktree add -q --detach "$work/pages" origin/gh-pages
else
  git worktree add -q --detach "$work/pages"
  git -C "$work/pages" checkout -q --orphan gh-pages-new
  git -C "$work/pages" rm -rfq . >/dev/null 2>&1 || true
fi
pages="$work/pages"
[ -n "$(ls -A "$site")" ] || { echo "publish-pages: $site is empty, nothing to publish" >&2; exit 1; }
cp -R "$site/." "$pages/"
touch "$pages/.nojekyll"
git -C "$pages" add -A
if git -C "$pages" diff --cached --quiet && git -C "$pages" rev-parse -q --verify HEAD >/dev/null; then
  echo "gh-pages: unchanged, nothing committed"
  exit 0
fi
git -C "$pages" -c user.name=release -c user.email=release@users.noreply.github.com commit -qm "$message"
git -C "$pages" push -q origin HEAD:refs/heads/gh-pages
echo "gh-pages: published $(git -C "$pages" rev-parse --short HEAD)"
