#!/usr/bin/env bash
# Two builds of faultline on the same inputs, run alternately so that the
# machine's drift hits both alike: a 1 GiB W3C log (scan, analyze, one
# query), EVTX files (scan, analyze) and a generated bundle (analyze).
# Prints the median wall time, CPU time and peak RSS of RUNS runs each.
#
# usage: benches/scripts/before_after.sh BEFORE_BIN AFTER_BIN W3C_FILE EVTX_FILE... -- BUNDLE_DIR [RUNS]
# (generate the inputs with faultline-corpus: `w3c --size-mib 1024`,
# `generate --scenario worker-crash --hosts 4 --size-mib 600`; EVTX with
# evtx_concat.py or the corpus' evtx_write example)
set -euo pipefail
before=$1 after=$2 w3c=$3
shift 3
evtx=()
while [ "$1" != "--" ]; do evtx+=("$1"); shift; done
shift
bundle=$1
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=measure.sh
. "$here/measure.sh"

both() {
  local name=$1; shift
  measure "before" "$before" "$@"
  measure "after" "$after" "$@"
  echo "   ^ $name"
}

both "W3C scan" scan --quiet "$w3c"
both "W3C analyze" analyze --quiet --format json "$w3c"
both "W3C query status-codes" query --quiet --query status-codes "$w3c"
for f in "${evtx[@]}"; do
  both "EVTX scan $(basename "$f")" scan --quiet "$f"
  both "EVTX analyze $(basename "$f")" analyze --quiet --format json "$f"
done
both "bundle analyze" analyze --quiet --format json "$bundle"
