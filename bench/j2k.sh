#!/usr/bin/env bash
# Issue 23's JPEG 2000 targets, side by side with OpenJPEG:
#   per slice: voxmine's decoder (BenchmarkDecodeDir, one thread) against
#     the decode time opj_decompress reports (-ImgDir, one thread, its
#     default), over the same codestreams: the real 20-slice JPEG 2000
#     series of ../shared/realct and LIDC-IDRI-0001 recompressed
#     losslessly by GDCM (target ≤ 1.2×);
#   per series: `ingest --workers 1` of LIDC-IDRI-0001 as JPEG 2000
#     against the same series uncompressed (target ≤ 2×), whose stores'
#     HU shards must be identical.
# Usage: bench/j2k.sh [RUNS]   Needs: opj_decompress and gdcmconv
# (apt-get install libopenjp2-tools libgdcm-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
W=${WORK:-/tmp/voxmine-bench}/j2k
REAL=../shared/realct
for tool in opj_decompress gdcmconv; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install libopenjp2-tools libgdcm-tools)"; exit 1; }
done
rm -rf "$W" && mkdir -p "$W/cs/abdomen" "$W/cs/lidc" "$W/lidc-j2k" "$W/lidc-raw"
make build >/dev/null
go test -c -o "$W/j2k.test" ./ingest/dicom/j2k
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The codestreams: each file's one fragment, SOC to EOC.
# LIDC-IDRI-0001's slices (not its XML), as they are and recompressed.
for f in "$REAL"/lidc-idri-0001/*.dcm; do
  ln -s "$(realpath "$f")" "$W/lidc-raw/"
  gdcmconv --j2k "$f" "$W/lidc-j2k/$(basename "$f")"
done
/usr/bin/python3 - "$REAL/upper-abdomen-j2k" "$W/cs/abdomen" "$W/lidc-j2k" "$W/cs/lidc" <<'PY'
import glob, os, sys
for src, dst in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    for i, f in enumerate(sorted(glob.glob(os.path.join(src, "*")))):
        b = open(f, "rb").read()
        cs = b[b.index(b"\xff\x4f\xff\x51"):b.rindex(b"\xff\xd9") + 2]
        open(os.path.join(dst, "%03d.j2k" % i), "wb").write(cs)
PY

echo "# JPEG 2000, $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores; medians of $RUNS, alternating"
for set in abdomen lidc; do
  dir="$W/cs/$set"
  for _ in $(seq "$RUNS"); do
    rm -f "$dir"/*.raw
    echo "opj $(opj_decompress -ImgDir "$dir" -OutFor RAW 2>&1 | awk '/decode time/ {print $3}')"
    rm -f "$dir"/*.raw
    echo "voxmine $(J2K_DIR="$dir" "$W/j2k.test" -test.run XXX -test.bench DecodeDir -test.benchtime 3x | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "ms/codestream") print $i}')"
  done > "$W/times"
  opj=$(awk '$1 == "opj" {print $2}' "$W/times" | median)
  vox=$(awk '$1 == "voxmine" {print $2}' "$W/times" | median)
  printf '%-8s %3d slices: voxmine %6.1f ms a slice, opj_decompress %5.1f ms, ratio %.2f\n' \
    "$set" "$(ls "$dir" | wc -l)" "$vox" "$opj" "$(echo "$vox $opj" | awk '{print $1/$2}')"
done

# Whole ingest of one series, one worker (its slices still decode on
# every core), JPEG 2000 and uncompressed alternating.
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
for _ in $(seq "$RUNS"); do
  rm -rf "$W/st-raw" "$W/st-j2k"
  echo "raw $(ms bin/ingest --workers 1 --quiet --src "$W/lidc-raw" --out "$W/st-raw")"
  echo "j2k $(ms bin/ingest --workers 1 --quiet --src "$W/lidc-j2k" --out "$W/st-j2k")"
done > "$W/times"
raw=$(awk '$1 == "raw" {print $2}' "$W/times" | median)
j2k=$(awk '$1 == "j2k" {print $2}' "$W/times" | median)
same=identical
(cd "$W/st-raw/scans" && find . -path '*/hu/c/*' -type f -exec md5sum {} + | sed 's|\./[^/]*/||' | sort) > "$W/raw.md5"
(cd "$W/st-j2k/scans" && find . -path '*/hu/c/*' -type f -exec md5sum {} + | sed 's|\./[^/]*/||' | sort) > "$W/j2k.md5"
cmp -s "$W/raw.md5" "$W/j2k.md5" || same=DIFFERENT
printf 'LIDC-IDRI-0001 ingest --workers 1: JPEG 2000 %d ms, uncompressed %d ms, ratio %.2f; HU shards %s\n' \
  "$j2k" "$raw" "$(echo "$j2k $raw" | awk '{print $1/$2}')" "$same"
