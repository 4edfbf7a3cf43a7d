#!/usr/bin/env bash
# Runs every benchmark behind docs/BENCHMARKS.md on this machine, side by
# side, and writes the raw output to bench/results.txt.
#
# Needs: Go; for the comparisons also Debian's python3-zarr and
# libinsighttoolkit5-dev + cmake (the ITK reference program):
#   apt-get install python3-zarr python3-numcodecs libinsighttoolkit5-dev cmake g++
# Takes about 10 minutes on 2 cores; uses ~6 GB of disk in $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/voxmine-bench}
N=${N:-8}
out=bench/results.txt
rm -rf "$WORK" && mkdir -p "$WORK"
make build >/dev/null
exec > >(tee "$out") 2>&1

echo "# voxmine benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(free -g | awk '/Mem/{print $2}') GiB; $(go version)"

echo; echo "## synthetic dataset: $N full-size scans"
/usr/bin/time -f "generate: %e s wall, peak RSS %M KB" bin/ingest --synthetic "$N" --seed 3 --src "$WORK/src" --quiet
du -sh "$WORK/src"

for w in 1 2; do
  echo; echo "## ingest, --workers $w (mask files imported)"
  /usr/bin/time -f "ingest: %e s wall, peak RSS %M KB" bin/ingest --src "$WORK/src" --out "$WORK/store$w" \
    --masks "$WORK/src/seg-lungs-LUNA16" --annotations "$WORK/src/annotations.csv" \
    --annotations-excluded "$WORK/src/annotations_excluded.csv" --candidates "$WORK/src/candidates.csv" --workers $w --quiet
done
echo; echo "## ingest, --workers 1, lungs computed (--lung compute)"
/usr/bin/time -f "ingest: %e s wall, peak RSS %M KB" bin/ingest --src "$WORK/src" --out "$WORK/store-computed" \
  --lung compute --workers 1 --quiet
echo; echo "## Dice of the computed masks against the mask files (--compare-masks)"
bin/ingest --src "$WORK/src" --out "$WORK/store-compare" --masks "$WORK/src/seg-lungs-LUNA16" \
  --lung compute --compare-masks --workers 2 --quiet | grep '^dice' 
echo; echo "## ingest, --workers 1, no labels (--lung none): read + resample + compress + write only"
/usr/bin/time -f "ingest: %e s wall, peak RSS %M KB" bin/ingest --src "$WORK/src" --out "$WORK/store-none" --lung none --workers 1 --quiet

if [ -x "${ITK_RESAMPLE:-}" ] || command -v cmake >/dev/null && [ -d /usr/lib/cmake/ITK-5.2 ]; then
  b=${ITK_BUILD:-/tmp/voxmine-itk-build}
  if [ ! -x "$b/resample" ]; then mkdir -p "$b"; (cd "$b" && cmake -DCMAKE_BUILD_TYPE=Release "$OLDPWD/testdata/itkresample" >/dev/null && make -j2 >/dev/null); fi
  echo; echo "## ITK 5.2 (Debian) read + linear resample of the same scans, one at a time"
  echo "scan read_s resample_s"
  for f in $(find "$WORK/src" -path '*subset*' -name '*.mhd' | sort); do
    echo "$(basename "$f" .mhd | tail -c 12) $("$b/resample" "$f" "$WORK/itk-out.mhd" 0)"
  done
  rm -f "$WORK"/itk-out.*
fi

echo; echo "## readers side by side with ITK 5.2 (itkread: GDCM series reader, NiftiImageIO)"
go run ./testdata/itkresample/gendicom -big "$WORK/bigdcm"
go run ./testdata/itkresample/gennifti -big "$WORK/big.nii.gz"
VOXMINE_BENCH_DICOM="$WORK/bigdcm" go test -run XXX -bench ReadSeries -count 5 ./ingest/dicom | grep Benchmark | sed 's/^/512x512x300 series: /'
go test -run XXX -bench ReadSeries -count 5 ./ingest/dicom | grep Benchmark | sed 's/^/LIDC-IDRI-0001: /'
VOXMINE_BENCH_NIFTI="$WORK/big.nii.gz" go test -run XXX -bench ReadCT -count 3 ./ingest/nifti | grep Benchmark | sed 's/^/512x512x300 .nii.gz: /'
go test -run XXX -bench ReadCT -count 5 ./ingest/nifti | grep Benchmark | sed 's/^/abdomen ct.nii.gz: /'
if [ -x "${ITK_BUILD:-/tmp/voxmine-itk-build}/itkread" ]; then
  for f in "$WORK/bigdcm" ../shared/realct/lidc-idri-0001 "$WORK/big.nii.gz" ../shared/realct/abdomen-lung-bases/ct.nii.gz; do
    for i in 1 2 3; do echo "ITK $(basename "$f"): $("${ITK_BUILD:-/tmp/voxmine-itk-build}/itkread" "$f" | grep read_seconds)"; done
  done
fi

echo; echo "## a small first run: 2 full-size scans, 10 negatives each, whole process, against ITK"
bench/small_run.sh 21

echo; echo "## Go benchmarks against the store of full-size scans"
export VOXMINE_BENCH_STORE="$WORK/store2"
go test -run XXX -bench 'ChunkDecode|RandomBox64|Write' -count 5 ./store
go test -run CompressionReport -v ./store | grep -v '^=== '
go test -run XXX -bench 'ReadCT|ReadFile|Resample|SegmentLungs' -count 3 ./ingest
go test -run XXX -bench 'Negatives|NotebookWay|Positives|PatchFloor' -benchtime 3x -count 3 ./mine
VOXMINE_BENCH_PER_SCAN=16 go test -run XXX -bench 'Negatives|NotebookWay|PatchFloor' -benchtime 3x -count 3 ./mine

if /usr/bin/python3 -c 'import zarr, numcodecs' 2>/dev/null; then
  echo; echo "## random 64³ box: python3-zarr (v2, Blosc lz4+shuffle, 32³ chunks) on the same volume"
  uid=$(ls "$WORK/store2/scans" | grep -v '^\.' | grep -v zarr.json | head -1)
  bin/mine roi --store "$WORK/store2" --uid "$uid" --voxel 175,175,175 --size 350 --dtype i16 --out "$WORK/vol.npy" >/dev/null
  echo "zarr-python v2 median ms: $(/usr/bin/python3 bench/zarr_v2_box.py "$WORK/vol.npy" "$WORK")"
fi

echo; echo "## peak memory of a mining run (16 per scan, 2 workers)"
/usr/bin/time -f "mine: %e s wall, peak RSS %M KB" bin/mine negatives --store "$WORK/store2" --out "$WORK/bg" --per-scan 16 --workers 2 --quiet
du -sh "$WORK"/store2
