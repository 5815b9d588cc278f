#!/usr/bin/env bash
# Whole-process comparison on one EVTX file: faultline scan (every record's
# provider, event id, time, channel and computer, counted per kind) vs
# evtx_dump rendering every record as JSON lines on two threads. Prints the
# median wall time, CPU time and peak RSS of RUNS runs each. Needs a release
# build and evtx_dump (`cargo install evtx`, or EVTX_DUMP=path).
#
# usage: benches/scripts/evtx_vs_peers.sh FILE [RUNS]
set -euo pipefail
file=$1
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=${FAULTLINE:-$here/../../target/release/faultline}
evtx_dump=${EVTX_DUMP:-evtx_dump}
# shellcheck source=measure.sh
. "$here/measure.sh"

ls -l "$file"
measure faultline "$bin" scan --quiet "$file"
measure evtx_dump "$evtx_dump" -o jsonl -t 2 "$file"
echo "-- the full analysis of the same file"
measure analyze "$bin" analyze --quiet "$file"
