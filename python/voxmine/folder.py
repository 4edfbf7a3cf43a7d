"""PatchFolder: a map-style dataset over what a file run of `mine` wrote."""

import csv
import glob
import io
import json
import os
import tarfile

import numpy as np

__all__ = ["PatchFolder", "read_index"]

INDEX_NAMES = ("index.csv", "bg_index.csv", "pos_index.csv", "cand_index.csv")

# Columns that stay text even when they look like numbers.
TEXT_COLUMNS = {"seriesuid", "patch_file", "subset", "kind", "orient", "drawn", "aug_flip", "aug_rot90", "aug_matrix", "nodule_mask"}


def _value(column, text):
    if column in TEXT_COLUMNS:
        return text
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_index(path):
    """The rows of a voxmine index CSV as dicts, numbers as numbers."""
    with open(path, newline="") as f:
        return [{k: _value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


class PatchFolder:
    """A map-style dataset (len and indexing; torch's DataLoader takes it as
    it is) over the patches of a `mine` run, in index order:

    - a run's folder: its index CSV and one .npy a patch;
    - the same folder written with --pack: patches.npy, memory-mapped, is
      read instead of the single files;
    - tar shards in the stream's layout (a folder of .tar files, a glob or
      a list of paths), indexed once and read by offset.

    Each item is transform(array, row) when a transform is given, else
    (array, row). The array is numpy (float16 by default), the row a dict.
    index names the index CSV of a folder that holds several.
    """

    def __init__(self, source, transform=None, prefer_pack=True, index=None):
        self.transform = transform
        self._pack = None
        self._tar = None
        paths = None
        if isinstance(source, (list, tuple)):
            paths = [os.fspath(p) for p in source]
        else:
            source = os.fspath(source)
            if os.path.isdir(source):
                names = [index] if index else INDEX_NAMES
                index = [os.path.join(source, n) for n in names if os.path.exists(os.path.join(source, n))]
                if index:
                    self.root = source
                    self.rows = read_index(index[0])
                    pack = os.path.join(source, "patches.npy")
                    if prefer_pack and os.path.exists(pack):
                        self._pack = np.load(pack, mmap_mode="r")
                        if len(self._pack) != len(self.rows):
                            raise ValueError(f"{pack}: {len(self._pack)} patches for {len(self.rows)} index rows")
                    return
                paths = sorted(glob.glob(os.path.join(source, "*.tar")))
            else:
                paths = sorted(glob.glob(source))
            if not paths:
                raise FileNotFoundError(f"{source}: no index CSV ({', '.join(INDEX_NAMES)}) and no .tar shards")
        self._index_tars(paths)

    def _index_tars(self, paths):
        self.rows, self._tar = [], []
        for path in paths:
            with tarfile.open(path, mode="r:") as tf:
                cur = None
                for m in tf:
                    if not m.isfile():
                        continue
                    key, _, ext = m.name.rsplit("/", 1)[-1].partition(".")
                    if cur is None or cur[0] != key:
                        cur = (key, {})
                        self._tar.append((path, cur[1]))
                        self.rows.append(None)
                    cur[1][ext] = (m.offset_data, m.size)
                    if ext == "json":
                        self.rows[-1] = json.loads(tf.extractfile(m).read())

    def __len__(self):
        return len(self.rows)

    def _read(self, path, where):
        off, size = where
        with open(path, "rb") as f:
            f.seek(off)
            return f.read(size)

    def __getitem__(self, i):
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        row = dict(self.rows[i] or {})
        if self._pack is not None:
            arr = np.asarray(self._pack[i])
        elif self._tar is not None:
            path, members = self._tar[i]
            arr = np.load(io.BytesIO(self._read(path, members["npy"])), allow_pickle=False)
            if "labels.npy" in members:
                row["labels"] = np.load(io.BytesIO(self._read(path, members["labels.npy"])), allow_pickle=False)
        else:
            arr = np.load(os.path.join(self.root, row["patch_file"]), allow_pickle=False)
        if self.transform is not None:
            return self.transform(arr, row)
        return arr, row
