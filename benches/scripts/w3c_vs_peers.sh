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

# shellcheck source=measure.sh
. "$here/measure.sh"

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
