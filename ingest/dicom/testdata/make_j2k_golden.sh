#!/usr/bin/env bash
# j2k-real.txt: for each slice of ../shared/realct/upper-abdomen-j2k, the
# SHA-256 of its stored values as OpenJPEG decodes them (little-endian
# int16), for TestRealJPEG2000Pixels. Needs Debian's libopenjp2-tools.
# Run from this folder.
set -euo pipefail
src=${1:-../../../../shared/realct/upper-abdomen-j2k}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
: > j2k-real.txt
for f in $(ls "$src" | sort); do
  /usr/bin/python3 - "$src/$f" "$tmp/cs.j2k" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
i, j = b.find(b"\xff\x4f\xff\x51"), b.rfind(b"\xff\xd9")
open(sys.argv[2], "wb").write(b[i:j + 2])
PY
  opj_decompress -i "$tmp/cs.j2k" -o "$tmp/out.rawl" >/dev/null
  echo "$f $(sha256sum "$tmp/out.rawl" | cut -d' ' -f1)" >> j2k-real.txt
done
wc -l j2k-real.txt
