#!/usr/bin/env bash
# Patches per second into a training loop: the stream against mine writing
# .npy files and against the file round trip (mine to files, then a Dataset
# reading them back), at 1 and 16 patches per scan, side by side in one run.
# Usage: bench/stream.sh [N_SCANS] [REPEATS]   (needs make build, python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-8}
R=${2:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export VOXMINE_MINE=$PWD/bin/mine PYTHONPATH=$PWD/python
bin/ingest --synthetic "$N" --seed 1 --src "$W/src" --out "$W/store" --workers 2 --quiet >/dev/null
PY=/usr/bin/python3
t() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
for per in ${PER:-1 16}; do
  for r in $(seq "$R"); do
    rm -rf "$W/out"
    files=$(t bin/mine negatives --store "$W/store" --out "$W/out" --per-scan $per --seed $r --workers 2 --quiet)
    n=$(($(wc -l < "$W/out/bg_index.csv") - 1))
    read_back=$(t $PY -c "
import sys, torch
from torch.utils.data import DataLoader
from voxmine import PatchFolder
ds = PatchFolder(sys.argv[1], transform=lambda a, r: (torch.from_numpy(a.astype('float32'))[None], r['label']))
for x, y in DataLoader(ds, batch_size=16, num_workers=2): pass
" "$W/out")
    stream=$(t $PY -c "
import sys, torch
from torch.utils.data import DataLoader
from voxmine.torch import PatchStream
ds = PatchStream(sys.argv[1], 'negatives', per_scan=int(sys.argv[2]), seed=int(sys.argv[3]))
k = 0
for x, row in DataLoader(ds, batch_size=16, num_workers=2): k += len(x)
assert k == int(sys.argv[4]), k
" "$W/store" $per $r $n)

    echo "per_scan=$per n=$n files_s=$files roundtrip_s=$(echo "$files + $read_back" | bc) stream_s=$stream"
  done
done
