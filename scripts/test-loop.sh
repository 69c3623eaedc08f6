#!/usr/bin/env bash
# usage: scripts/test-loop.sh [N]   (default 20)
# Runs `pnpm test` N times in a row with turbo's cache off, so every package's
# tests really run each time; stops at the first failing run and keeps its log.
# Prints one line per run and a closing summary.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/test-loop.sh [N]  (N a positive number, got \"$runs\")" >&2; exit 2; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/test-loop.XXXXXX")
for i in $(seq "$runs"); do
  start=$(date +%s)
  if pnpm test --force >"$logs/run-$i.log" 2>&1; then
    echo "run $i/$runs: $(tail -n 1 "$logs/run-$i.log") ($(($(date +%s) - start)) s)"
    rm -f "$logs/run-$i.log"
  else
    echo "run $i/$runs FAILED: $(tail -n 1 "$logs/run-$i.log"); log: $logs/run-$i.log" >&2
    echo "test-loop: $((i - 1)) of $runs runs passed before run $i failed" >&2
    exit 1
  fi
done
rmdir "$logs"
echo "test-loop: $runs of $runs runs passed"
