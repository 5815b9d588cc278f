# Sourced by the comparison scripts. `measure NAME CMD...` runs CMD $runs
# times (output discarded) and prints the median wall time, CPU time
# (user + sys) and peak RSS.
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
