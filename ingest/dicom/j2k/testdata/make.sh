#!/usr/bin/env bash
# Makes the JPEG 2000 fixtures of j2k's tests with OpenJPEG (Debian's
# libopenjp2-tools): codestreams of two small images in every coding
# option the decoder reads, and golden.txt, the SHA-256 of what
# opj_decompress makes of each (its samples as little-endian int16).
# Run it from this folder; commit what it writes.
set -euo pipefail
command -v opj_compress >/dev/null || { echo "needs opj_compress (apt-get install libopenjp2-tools)"; exit 1; }
/usr/bin/python3 - <<'PY'
import struct
# A 67 × 45, 12-bit image: a slope, a bright disc, edges and noise.
w, h, seed, out = 67, 45, 12345, []
for y in range(h):
    for x in range(w):
        seed = (seed * 1103515245 + 12345) % 2**31
        v = (x * 37 + y * 23) % 1500 + (1800 if (x - 30)**2 + (y - 20)**2 < 150 else 0) + seed % 97
        out.append(min(v, 4095))
with open("u12.pgm", "wb") as f:
    f.write(b"P5\n%d %d\n4095\n" % (w, h))
    f.write(b"".join(struct.pack(">H", v) for v in out))
# A 40 × 33, 16-bit signed image (CT values).
w, h, out = 40, 33, []
for y in range(h):
    for x in range(w):
        seed = (seed * 1103515245 + 12345) % 2**31
        out.append(-1024 + (x * 53 + y * 29) % 2000 + seed % 31 - (2000 if x < 5 else 0))
with open("s16.rawl", "wb") as f:
    f.write(b"".join(struct.pack("<h", v) for v in out))
PY
rm -f ./*.j2k golden.txt
enc() { # name, source, options...
  local name=$1 src=$2; shift 2
  if [ "$src" = s16.rawl ]; then
    opj_compress -i s16.rawl -F 40,33,1,16,s -o "$name.j2k" "$@" >/dev/null
  else
    opj_compress -i "$src" -o "$name.j2k" "$@" >/dev/null
  fi
}
enc lrcp u12.pgm -n 4
enc rlcp u12.pgm -n 3 -p RLCP
enc rpcl-precincts u12.pgm -n 4 -p RPCL -c [16,16],[16,16],[8,8],[8,8] -b 8,8
enc pcrl-precincts u12.pgm -n 3 -p PCRL -c [32,16],[16,16],[16,8] -b 16,8
enc cprl u12.pgm -n 3 -p CPRL -c [16,16]
enc bypass u12.pgm -n 3 -M 1
enc reset-termall u12.pgm -n 3 -M 6
enc causal-segmark u12.pgm -n 3 -M 40
enc all-modes u12.pgm -n 3 -M 63
enc tiles-offset u12.pgm -n 2 -t 32,16 -d 3,5 -T 1,2
enc tileparts-sop-eph u12.pgm -n 3 -t 32,32 -TP R -SOP -EPH
enc layers u12.pgm -n 3 -r 40,20,10,1
enc truncated u12.pgm -n 3 -r 8
enc blocks-4x64 u12.pgm -n 2 -b 4,64
enc one-level u12.pgm -n 1
enc signed16 s16.rawl -n 3
enc signed16-bypass-layers s16.rawl -n 4 -M 1 -r 30,10,1
enc irreversible u12.pgm -n 3 -I
enc irreversible-layers u12.pgm -n 4 -I -r 20,8,3
enc irreversible-signed16 s16.rawl -n 3 -I -p RPCL -c [16,16] -b 16,16
opj_compress -i u12.pgm -o boxed.jp2 -n 3 >/dev/null # a JP2 file: boxes around the codestream
for f in *.j2k boxed.jp2; do
  case $f in
  irreversible*) # lossy: OpenJPEG's float32 samples are kept, to compare within one
    opj_decompress -i "$f" -o "${f%.j2k}.opj.rawl" >/dev/null ;;
  *)
    opj_decompress -i "$f" -o "/tmp/j2k-$$.rawl" >/dev/null
    echo "${f%.*} $(sha256sum "/tmp/j2k-$$.rawl" | cut -d' ' -f1)" >> golden.txt
    rm -f "/tmp/j2k-$$.rawl" ;;
  esac
done
ls -l ./*.j2k | awk '{s += $5} END {print NR " codestreams, " s " bytes"}'
