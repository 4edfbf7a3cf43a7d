#!/usr/bin/env bash
# A new user's first small run, whole process, side by side with the
# notebook's way in ITK 5.2 (testdata/itkresample/notebook.cxx) on the same
# 20 centres: 2 full-size synthetic scans, 10 negatives each.
# Usage: bench/small_run.sh [RUNS]   (called by bench/run.sh)
# Needs: make build; for the ITK side libinsighttoolkit5-dev, cmake, g++.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-21}
W=${WORK:-/tmp/voxmine-bench}/small
rm -rf "$W" && mkdir -p "$W"
bin/ingest --synthetic 2 --seed 1 --src "$W/src" --out "$W/store" --workers 2 --quiet >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { echo "$1" | awk '{printf "%.1f", $1/1e6}'; }

# voxmine: the whole `mine negatives` process, fresh output folder each run.
for i in $(seq "$RUNS"); do
  rm -rf "$W/neg"
  s=$(date +%s%N); bin/mine negatives --store "$W/store" --out "$W/neg" --per-scan 10 --seed 7 --quiet >/dev/null; e=$(date +%s%N)
  echo $((e - s))
done | median > "$W/vox.ns"
echo "voxmine mine negatives, 20 patches, whole process: median $(ms "$(cat "$W/vox.ns")") ms of $RUNS runs"

b=${ITK_BUILD:-/tmp/voxmine-itk-build}
if [ ! -x "$b/notebook" ] && command -v cmake >/dev/null && [ -d /usr/lib/cmake/ITK-5.2 ]; then
  mkdir -p "$b" && (cd "$b" && cmake -DCMAKE_BUILD_TYPE=Release "$OLDPWD/testdata/itkresample" >/dev/null && make -j2 >/dev/null)
fi
if [ -x "$b/notebook" ]; then
  # The same centres, from the index voxmine wrote, with each scan's .mhd
  # from the store's scan table.
  bin/mine info --store "$W/store" --csv > "$W/scans.csv"
  /usr/bin/python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
paths = {s["seriesuid"]: s["source"] for s in csv.DictReader(open(f"{w}/scans.csv"))}
with open(f"{w}/centres.txt", "w") as f:
    for r in csv.DictReader(open(f"{w}/neg/bg_index.csv")):
        f.write(f'{paths[r["seriesuid"]]} {r["center_z"]} {r["center_y"]} {r["center_x"]}\n')
PY
  for i in $(seq 5); do
    rm -rf "$W/itk" && mkdir -p "$W/itk"
    s=$(date +%s%N); "$b/notebook" "$W/centres.txt" "$W/itk" >/dev/null; e=$(date +%s%N)
    echo $((e - s))
  done | median > "$W/itk.ns"
  echo "ITK 5.2 notebook way (read, resample, cut, window, save), same 20 cubes: median $(ms "$(cat "$W/itk.ns")") ms of 5 runs"
  echo "ratio: voxmine is $(awk -v a="$(cat "$W/itk.ns")" -v b="$(cat "$W/vox.ns")" 'BEGIN {printf "%.1f", a/b}')x faster"
fi
