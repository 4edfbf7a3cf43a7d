"""The same random 64³ box read as voxmine's BenchmarkRandomBox64, through
Debian's python3-zarr (Zarr v2) with 32³ chunks and Blosc lz4 + shuffle.

usage: /usr/bin/python3 zarr_v2_box.py VOLUME.npy WORKDIR [N]
VOLUME.npy is an int16 (z, y, x) volume (`mine roi --size … --dtype i16`).
Prints the median read time in ms. zarr v2 keeps no chunk cache, so every
read decodes its chunks: a cold chunk cache, as in the Go benchmark.
"""
import os, sys, time
import numpy as np
import zarr
from numcodecs import Blosc

vol = np.load(sys.argv[1])
work = sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
path = os.path.join(work, "v2.zarr")
z = zarr.open(path, mode="w", shape=vol.shape, chunks=(32, 32, 32), dtype="i2",
              compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
z[:] = vol
z = zarr.open(path, mode="r")
rng = np.random.default_rng(1)
times = []
for _ in range(n):
    c = [rng.integers(0, s - 64) for s in vol.shape]
    t0 = time.perf_counter()
    box = z[c[0]:c[0] + 64, c[1]:c[1] + 64, c[2]:c[2] + 64]
    times.append(time.perf_counter() - t0)
print(f"{np.median(times) * 1000:.3f}")
