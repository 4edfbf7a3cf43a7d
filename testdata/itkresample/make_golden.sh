#!/usr/bin/env bash
# Regenerates the ITK golden fixtures: inputs from gen/, outputs from ITK's
# ResampleImageFilter (resample.cxx against Debian's libinsighttoolkit5-dev).
# Needs: apt-get install libinsighttoolkit5-dev cmake g++
# Builds resample, notebook and itkread (itkread.cxx: what ITK makes of a NIfTI file or a DICOM folder).
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

# NIfTI: fixtures from gennifti, and what ITK 5.2's NiftiImageIO makes of
# each (itkread prints geometry and digests; a file ITK refuses says so).
rm -rf nifti && (cd ../.. && go run ./testdata/itkresample/gennifti "$here/nifti")
for f in nifti/*.nii.gz; do
  "$build/itkread" "$f" > "${f%.nii.gz}.itk.txt" 2>&1 || echo "itk_error = $(tail -1 "${f%.nii.gz}.itk.txt")" >> "${f%.nii.gz}.itk.txt"
done
# DICOM: one synthetic series per case from gendicom, and what ITK 5.2's
# GDCMSeriesFileNames + ImageSeriesReader make of each folder.
rm -rf dicom && (cd ../.. && go run ./testdata/itkresample/gendicom "$here/dicom")
for d in dicom/*/; do
  "$build/itkread" "$d" > "dicom/$(basename "$d").itk.txt"
done
# Real scans from ../shared/realct, digests only (the volumes stay there).
real=../../../shared/realct
if [ -d "$real" ]; then
  "$build/itkread" "$real/abdomen-lung-bases/ct.nii.gz" > real/abdomen-lung-bases-ct.itk.txt
  "$build/itkread" "$real/lidc-idri-0001" > real/lidc-idri-0001.itk.txt
fi
