#!/usr/bin/env bash
# Issue 23's floors, side by side: a run's whole process against what it
# could not avoid (bench/floor: map each scan, decode the chunks each cube
# touches, window to float16, write the .npy; one process, same workers,
# same cubes, read from the run's own index).
#   small: 20 patches from 2 full-size scans (target ≤ 1.5× the floor);
#   per-scan: --per-scan 1 over 2,000 listed scans of a scale store
#             (bench/scale.sh's; target ≤ 1.3×).
# Usage: bench/floor.sh [RUNS]   Needs: make build; bench/scale.sh run first
# for the per-scan case (it is skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
W=${WORK:-/tmp/voxmine-bench}/floor
rm -rf "$W" && mkdir -p "$W"
make build >/dev/null
go build -o "$W/floor" ./bench/floor
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000)) | awk '{printf "%.1f\n", $1/1000}'; }

compare() { # compare NAME STORE MINE-ARGS…: medians of RUNS, alternating
  local name=$1 store=$2; shift 2
  bin/mine negatives --store "$store" --out "$W/run" --overwrite --workers 2 --quiet "$@" >/dev/null
  cp "$W/run/bg_index.csv" "$W/index.csv"
  for _ in $(seq "$RUNS"); do
    echo "run $(ms bin/mine negatives --store "$store" --out "$W/run" --overwrite --workers 2 --quiet "$@")"
    rm -rf "$W/cubes"
    echo "floor $(ms "$W/floor" -store "$store" -index "$W/index.csv" -out "$W/cubes" -workers 2)"
  done > "$W/times"
  local run floor
  run=$(awk '$1 == "run" {print $2}' "$W/times" | median)
  floor=$(awk '$1 == "floor" {print $2}' "$W/times" | median)
  printf '%-48s run %8.1f ms   floor %8.1f ms   ratio %.2f\n' "$name" "$run" "$floor" "$(echo "$run $floor" | awk '{print $1/$2}')"
}

echo "# floors, $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores; median of $RUNS, alternating"
bin/ingest --synthetic 2 --seed 1 --src "$W/src" --out "$W/store" --workers 2 --quiet >/dev/null
compare "small: 20 patches, 2 full-size scans" "$W/store" --per-scan 10 --seed 7
scale=${WORK:-/tmp/voxmine-bench}/scale/store200000
if [ -d "$scale" ]; then
  /usr/bin/python3 -c "print('\n'.join('1.2.840.99999.%09d' % (i * 100) for i in range(2000)))" > "$W/uids"
  compare "per-scan 1: 2,000 scans of 200,000" "$scale" --per-scan 1 --seed 7 --uids "$W/uids"
fi
