"""Patches per second into a DataLoader: the stream against mine writing
.npy files and against the file round trip, on the same patches, side by
side in one process (torch imported once, before any timing).

Usage: VOXMINE_MINE=bin/mine PYTHONPATH=python /usr/bin/python3 bench/stream_bench.py STORE [PER_SCAN ...]
Each row is the median of REPEATS (env, default 3) runs. The stream and the
reading side both use 2 DataLoader workers; mine uses --workers 2 for files
and one worker per stream part (2 parts).
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import voxmine  # noqa: E402
from voxmine.torch import PatchStream, default_transform  # noqa: E402

store = sys.argv[1]
pers = [int(a) for a in sys.argv[2:]] or [1, 16]
repeats = int(os.environ.get("REPEATS", "3"))
mine = voxmine.find_mine()


def consume(loader):
    n = 0
    for x, row in loader:
        n += len(x)
    return n


def disk_used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


print(f"# store {store}, {os.cpu_count()} cores, torch {torch.__version__}, numpy {np.__version__}")
print("| per scan | patches | mine → files (patches/s) | stream → DataLoader | file round trip | stream ÷ mine | stream ÷ round trip | disk written by stream |")
print("|---|---|---|---|---|---|---|---|")
for per in pers:
    files_t, stream_t, trip_t, disk = [], [], [], []
    n = 0
    for r in range(repeats):
        out = tempfile.mkdtemp(prefix="voxmine-bench-")
        try:
            t0 = time.perf_counter()
            subprocess.run([mine, "negatives", "--store", store, "--out", out, "--per-scan", str(per),
                            "--seed", str(r), "--workers", "2", "--quiet"], check=True, capture_output=True)
            t1 = time.perf_counter()
            folder = voxmine.PatchFolder(out, transform=default_transform)
            n = consume(DataLoader(folder, batch_size=16, num_workers=2))
            t2 = time.perf_counter()
            files_t.append(t1 - t0)
            trip_t.append(t2 - t0)
        finally:
            shutil.rmtree(out)
        before = disk_used(tempfile.gettempdir())
        t3 = time.perf_counter()
        k = consume(DataLoader(PatchStream(store, "negatives", per_scan=per, seed=r, shuffle=False), batch_size=16,
                               num_workers=2))
        t4 = time.perf_counter()
        disk.append(disk_used(tempfile.gettempdir()) - before)
        assert k == n, (k, n)
        stream_t.append(t4 - t3)
    f, s, t = statistics.median(files_t), statistics.median(stream_t), statistics.median(trip_t)
    print(f"| {per} | {n} | {n / f:.0f} | {n / s:.0f} | {n / t:.0f} | {f / s:.2f}× | {t / s:.2f}× | {max(disk) / 1e6:.1f} MB |")
print(f"# peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
      f"largest child (a DataLoader worker or mine) {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
