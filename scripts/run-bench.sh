#!/usr/bin/env bash
# Runs every benchmark program in the build; the figures go in docs/performance.md.
set -euo pipefail
build=${1:-build}
for b in "$build"/tests/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
