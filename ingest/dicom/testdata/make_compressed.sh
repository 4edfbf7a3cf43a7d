#!/usr/bin/env bash
# Makes compressed/: small CT slices (gencompressed) in the compressed
# transfer syntaxes voxmine decodes, written by DCMTK and GDCM (Debian's
# dcmtk and libgdcm-tools): lossless JPEG with each of the seven
# predictors and a point transform, RLE, JPEG 2000, JPEG-LS lossless and
# near-lossless, and for the refusal test lossy JPEG. Run from this folder; commit compressed/.
set -euo pipefail
for t in dcmcjpeg dcmcrle gdcmconv; do command -v $t >/dev/null || { echo "needs $t"; exit 1; }; done
rm -rf compressed && mkdir -p compressed/src
go run ./gencompressed compressed/src
for s in u12 s16 u8 pad; do
  in=compressed/src/$s.dcm
  for sv in 1 2 3 4 5 6 7; do dcmcjpeg +el +sv $sv "$in" "compressed/$s-jpegll-sv$sv.dcm"; done
  dcmcjpeg +e1 "$in" "compressed/$s-jpegll-sv1-default.dcm"
  dcmcjpeg +el +sv 6 +pt 2 "$in" "compressed/$s-jpegll-sv6-pt2.dcm"
  dcmcrle "$in" "compressed/$s-rle-dcmtk.dcm"
  dcmcjpls "$in" "compressed/$s-jpegls-dcmtk.dcm"
  # near-lossless, |error| ≤ 3, of the 12-bit slice only: DCMTK refuses it
  # for signed pixels, and its 8-bit near-lossless stream is not decoded
  # (neither as T.87 says nor as if lossless; 8-bit CT does not occur)
  [ $s = u12 ] && dcmcjpls +en +md 3 "$in" "compressed/$s-jpegls-near3-dcmtk.dcm"
  for c in rle jpeg j2k jpegls; do
    # GDCM 3.0.21 asserts on some sizes (RLE of the 8-bit slice): skip those
    gdcmconv --$c "$in" "compressed/$s-$c-gdcm.dcm" 2>/dev/null || rm -f "compressed/$s-$c-gdcm.dcm"
  done
done
dcmcjpeg +eb "compressed/src/u8.dcm" compressed/u8-jpeg-baseline.dcm # lossy
du -sh compressed
