"""Checks mined patches with NumPy, independently of voxmine's Go code.

usage: python3 check_npy.py OUT_DIR INDEX ROI_DIR DTYPE SIZE
Loads every patch listed in the index (csv module: no pandas needed), checks
dtype, shape and range, compares each with the matching file in ROI_DIR
(written by `mine roi`), loads patches.npy with mmap_mode='r' when present,
and compares voxmine's float16 encoding of every HU in the window with
NumPy's own. Prints one JSON line.
"""
import csv, json, os, sys
import numpy as np

out, index, roi_dir, dtype, size = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
want = {"f16": np.float16, "f32": np.float32, "i16": np.int16}[dtype]
rows = list(csv.DictReader(open(os.path.join(out, index), newline="")))
problems = []
for i, r in enumerate(rows):
    a = np.load(os.path.join(out, r["patch_file"]))
    if a.dtype != want or a.shape != (size, size, size):
        problems.append(f"{r['patch_file']}: {a.dtype} {a.shape}")
        continue
    if dtype != "i16" and (np.nanmin(a) < 0 or np.nanmax(a) > 1):
        problems.append(f"{r['patch_file']}: values outside [0, 1]")
    ref = np.load(os.path.join(roi_dir, f"{i}.npy"))
    if not np.array_equal(a, ref):
        problems.append(f"{r['patch_file']}: differs from mine roi")
    c = size // 2
    if a[c, c, c] != ref[c, c, c]:
        problems.append(f"{r['patch_file']}: centre value differs")
packed = os.path.join(out, "patches.npy")
if os.path.exists(packed):
    p = np.load(packed, mmap_mode="r")
    if p.shape != (len(rows), size, size, size) or p.dtype != want:
        problems.append(f"patches.npy: {p.dtype} {p.shape}")
    else:
        for i, r in enumerate(rows):
            if not np.array_equal(p[i], np.load(os.path.join(out, r["patch_file"]))):
                problems.append(f"patches.npy[{i}] differs from {r['patch_file']}")
# The notebook's transform done by NumPy itself, for every HU of the window.
hu = np.arange(-1100, 501, dtype=np.int16)
ref16 = ((np.clip(hu, -1000, 400) + 1000) / 1400).astype(np.float16)
print(json.dumps({"rows": len(rows), "problems": problems[:20], "f16_table": ref16.view(np.uint16).tolist()}))
