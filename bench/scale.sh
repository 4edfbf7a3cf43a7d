#!/usr/bin/env bash
# The scale benchmark (docs/BENCHMARKS.md, "Scale"; issue #23): stores of
# N = 1,000, 20,000 and 200,000 scans, each scan a link to one of 4
# full-size synthetic scans (bench/scalestore), with their records and
# findings. For each N it measures, whole process, median of RUNS:
#   - mine info (the summary);
#   - mine negatives --uids of 100 scans spread over the store, against the
#     same run on a store that holds only those 100;
#   - mine negatives --per-scan 1 --uids of 5,000 scans, streamed to
#     /dev/null (the per-scan cost, and memory as patches grow);
# and, with WHOLE=1, --per-scan 1 over the whole store (200,000 cubes:
# about 4 minutes here). Ingest's cost per stored scan at 1,000 and
# 200,000 is the Go benchmark BenchmarkPutIntoStoreOf (store/journal_test.go).
# Usage: bench/scale.sh   (SIZES="1000 20000" RUNS=5 WHOLE=1 to change)
# Needs: make build; ~2 GB of disk in $WORK for the 200,000-scan catalogs.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WORK:-/tmp/voxmine-bench}/scale
SIZES=${SIZES:-"1000 20000 200000"}
RUNS=${RUNS:-5}
rm -rf "$W" && mkdir -p "$W"
make build >/dev/null
go build -o "$W/scalestore" ./bench/scalestore
bin/ingest --synthetic 4 --seed 5 --src "$W/src" --out "$W/base" --workers 2 --quiet >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure NAME CMD…: the median wall time (s) and peak RSS (MB) of RUNS runs.
measure() {
  local name=$1; shift
  for _ in $(seq "$RUNS"); do
    rm -rf "$W/out"
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done > "$W/times"
  printf '%-58s %7.2f s %7.0f MB\n' "$name" "$(cut -d' ' -f1 "$W/times" | median)" "$(cut -d' ' -f2 "$W/times" | median | awk '{print $1/1024}')"
}
uids() { # uids N STRIDE: the uids bench/scalestore gives scans 0, STRIDE, 2·STRIDE, …
  /usr/bin/python3 -c "import sys
n, s = int(sys.argv[1]), int(sys.argv[2])
print('\n'.join('1.2.840.99999.%09d' % (i * s) for i in range(n)))" "$1" "$2"
}

echo "# voxmine scale benchmark, $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores; $(go version)"
for n in $SIZES; do
  s="$W/store$n"
  /usr/bin/time -f "built the $n-scan store in %e s" "$W/scalestore" -base "$W/base" -n "$n" -out "$s"
  echo "## N = $n: catalog $(du -h "$s/catalog.jsonl" | cut -f1), findings $(du -h "$s/findings.jsonl" | cut -f1), candidates $(du -h "$s/candidates.jsonl" | cut -f1)"
  measure "mine info" bin/mine info --store "$s"
  stride=$((n / 100))
  uids 100 "$stride" > "$W/uids100"
  "$W/scalestore" -base "$W/base" -n 100 -stride "$stride" -out "$W/only100-$n"
  measure "negatives --uids 100 --per-scan 1, this store" bin/mine negatives --store "$s" --uids "$W/uids100" --per-scan 1 --out "$W/out" --workers 2 --quiet
  measure "negatives --uids 100 --per-scan 1, a store of those 100" bin/mine negatives --store "$W/only100-$n" --uids "$W/uids100" --per-scan 1 --out "$W/out" --workers 2 --quiet
  if [ "$n" -ge 5000 ]; then
    uids 5000 $((n / 5000)) > "$W/uids5000"
    measure "stream --uids 5000 --per-scan 1 to /dev/null" bin/mine negatives --store "$s" --uids "$W/uids5000" --per-scan 1 --out - --workers 2 --quiet
  fi
  if [ "${WHOLE:-0}" = 1 ]; then
    RUNS=1 measure "stream --per-scan 1, the whole store, to /dev/null" bin/mine negatives --store "$s" --per-scan 1 --out - --workers 2 --quiet
  fi
  rm -rf "$W/only100-$n"
done
echo "## ingest: one more scan stored, by the catalog's size (alternating, median of $RUNS)"
# A Put's cost is mostly fsyncs, whose latency on a VM's disk varies by
# ±50 % from minute to minute: the sizes alternate, so both see the same.
for _ in $(seq "$RUNS"); do
  for n in 1000 200000; do
    go test ./store -run '^$' -bench "PutIntoStoreOf/$n\$" -benchtime 200x | awk -v n=$n '/^Benchmark/ {print n, $3}'
  done
done > "$W/put"
for n in 1000 200000; do
  printf 'Put into a store of %6d scans: median %.2f ms\n' "$n" "$(awk -v n=$n '$1 == n {print $2}' "$W/put" | median | awk '{print $1/1e6}')"
done
go test ./store -run '^$' -bench 'CatalogFoldOf|LookupIn' -benchtime 20x | grep -E '^Benchmark'
