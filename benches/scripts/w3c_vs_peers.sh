#!/usr/bin/env bash
# Whole-process comparison on one W3C file: faultline scan vs polars and DuckDB
# reading every column; then one question (requests by status, sub-status and
# win32 status) answered by faultline query, polars, DuckDB, lnav and GoAccess
# (the last two when installed). Prints the median wall time, CPU time and
# peak RSS of RUNS runs each. Needs: a release build, python3 with polars and
# duckdb.
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

echo "-- requests by status, sub-status and win32 status"
measure faultline "$bin" query --quiet --query status-codes "$file"
measure polars python3 "$here/w3c_peers.py" polars-query "$file"
measure duckdb python3 "$here/w3c_peers.py" duckdb-query "$file"
if command -v lnav >/dev/null; then
  measure lnav lnav -n -c ";SELECT sc_status, sc_substatus, jget(x_fields, '/sc-win32-status') AS win32, count(*) AS hits FROM w3c_log GROUP BY 1, 2, 3 ORDER BY hits DESC" "$file"
fi
if command -v goaccess >/dev/null; then
  # GoAccess answers with its whole dashboard (status codes among its panels).
  measure goaccess goaccess "$file" --log-format='%d %t %^ %^ %^ %m %U %q %^ %^ %h %H %u %^ %R %v %s %^ %^ %b %^ %L' \
    --date-format='%Y-%m-%d' --time-format='%T' -o /tmp/goaccess-report.json
fi
