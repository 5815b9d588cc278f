#!/usr/bin/env bash
# Whole-process comparison on one W3C file: faultline scan vs polars and DuckDB
# reading every column. Prints the median wall time, CPU time and peak RSS of
# RUNS runs each. Needs: a release build, python3 with polars and duckdb.
#
# usage: benches/scripts/w3c_vs_peers.sh FILE [RUNS]
set -euo pipefail
file=$1
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../target/release/faultline

measure() {
  local name=$1; shift
  local rows=() out
  out=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$out" -f '%e %U %S %M' "$@" >/dev/null 2>&1
    rows+=("$(tail -1 "$out")")
  done
  rm -f "$out"
  printf '%s\n' "${rows[@]}" | sort -n | awk -v name="$name" -v n="$runs" '
    { wall[NR]=$1; cpu[NR]=$2+$3; rss[NR]=$4 }
    END { m=int((n+1)/2); printf "%-10s wall %6.2f s  cpu %6.2f s  peak RSS %7.1f MB\n", name, wall[m], cpu[m], rss[m]/1024 }'
}

ls -l "$file"
measure faultline "$bin" scan --quiet "$file"
measure polars python3 "$here/w3c_peers.py" polars "$file"
measure duckdb python3 "$here/w3c_peers.py" duckdb "$file"
