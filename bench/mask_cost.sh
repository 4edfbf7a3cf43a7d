#!/usr/bin/env bash
# What the computed lung mask adds to ingest: `ingest --lung compute
# --workers 1` on a dataset, RUNS times, and the medians of its stage
# times from ingest's summary line: the mask against read + resample +
# compress/write (the spot search for hard negatives is its own stage).
# Usage: bench/mask_cost.sh SRC [RUNS] [INGEST]
#   SRC    a dataset folder (a synthetic one, ../shared/realct/lidc-idri-0001)
#   INGEST the binary to time (default bin/ingest; pass another build to
#          compare two versions side by side)
# Needs: make build.
set -euo pipefail
SRC=$1
RUNS=${2:-5}
BIN=${3:-bin/ingest}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { # "1.2s" or "345ms" -> milliseconds
  case $1 in *ms) echo "${1%ms}" ;; *µs) echo 0 ;; 0s) echo 0 ;; *s) echo "${1%s}" | awk '{print $1*1000}' ;; esac
}
for i in $(seq "$RUNS"); do
  rm -rf "$W/store"
  line=$("$BIN" --src "$SRC" --out "$W/store" --lung compute --workers 1 --quiet | grep '^ingested')
  read_ms=$(ms "$(sed -E 's/.*read ([^,]+),.*/\1/' <<<"$line")")
  res_ms=$(ms "$(sed -E 's/.*resample ([^,]+),.*/\1/' <<<"$line")")
  mask_ms=$(ms "$(sed -E 's/.*mask ([^,]+),.*/\1/' <<<"$line")")
  write_ms=$(ms "$(sed -E 's/.*compress\+write ([^)]+)\).*/\1/' <<<"$line")")
  echo "$mask_ms $(awk -v a="$read_ms" -v b="$res_ms" -v c="$write_ms" 'BEGIN{print a+b+c}')"
done >"$W/t"
mask=$(cut -d' ' -f1 "$W/t" | median)
rest=$(cut -d' ' -f2 "$W/t" | median)
echo "$(basename "$SRC"): mask $mask ms, read+resample+write $rest ms, the mask adds $(awk -v m="$mask" -v r="$rest" 'BEGIN{printf "%+.0f %%", 100*m/r}') (medians of $RUNS runs, $BIN)"
