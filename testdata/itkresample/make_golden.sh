#!/usr/bin/env bash
# Regenerates the ITK golden fixtures: inputs from gen/, outputs from ITK's
# ResampleImageFilter (resample.cxx against Debian's libinsighttoolkit5-dev).
# Needs: apt-get install libinsighttoolkit5-dev cmake g++
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-/tmp/voxmine-itk-build}
mkdir -p "$build"
(cd "$build" && cmake -DCMAKE_BUILD_TYPE=Release "$here" >/dev/null && make -j2 >/dev/null)
cd "$here"
rm -rf inputs outputs
(cd ../.. && go run ./testdata/itkresample/gen "$here/inputs")
mkdir -p outputs
for f in inputs/*.mhd; do
  name=$(basename "$f" .mhd)
  if [ "$name" = mask ]; then
    "$build/resample" "$f" "outputs/$name.mhd" 0 nearest >/dev/null
  else
    "$build/resample" "$f" "outputs/$name.mhd" 0 >/dev/null
  fi
done
ls -l inputs outputs
