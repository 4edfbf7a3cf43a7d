#!/usr/bin/env bash
# Makes multiframe/: small Enhanced CT images (make_multiframe.py, pydicom)
# and the same images compressed the ways archives hold multi-frame data,
# by DCMTK and GDCM (Debian's python3-pydicom, dcmtk, libgdcm-tools): one
# fragment per frame with a basic offset table, several fragments per
# frame with and without one, RLE, JPEG-LS and JPEG 2000. Run from this
# folder; commit multiframe/.
set -euo pipefail
for t in dcmcjpeg dcmcrle dcmcjpls gdcmconv; do command -v $t >/dev/null || { echo "needs $t"; exit 1; }; done
rm -rf multiframe && mkdir -p multiframe
/usr/bin/python3 make_multiframe.py multiframe
for s in mf-u12 mf-s16-implicit; do
  in=multiframe/$s.dcm
  dcmcjpeg +el +sv 1 "$in" "multiframe/$s-jpegll-bot.dcm"
  dcmcjpeg +el +sv 1 +fs 1 "$in" "multiframe/$s-jpegll-frag-bot.dcm"
  dcmcjpeg +el +sv 1 +fs 1 -ot "$in" "multiframe/$s-jpegll-frag-nobot.dcm"
  dcmcrle -ot "$in" "multiframe/$s-rle-nobot.dcm"
  dcmcjpls "$in" "multiframe/$s-jpegls.dcm"
  gdcmconv --j2k "$in" "multiframe/$s-j2k-gdcm.dcm"
done
du -sh multiframe
