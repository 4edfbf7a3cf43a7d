"""PatchStream: `mine stream` as a PyTorch IterableDataset."""

import math

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .stream import stream

__all__ = ["PatchStream", "default_transform", "as_stored"]


def default_transform(array, row):
    """(tensor, row): the cube as a float32 tensor with a channel axis,
    (1, s, s, s), and its row with empty values (None) as NaN, so that the
    DataLoader's default collate batches it. Lung labels, when streamed,
    become a uint8 tensor (1, s, s, s) under row["labels"]."""
    x = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None]
    out = {}
    for k, v in row.items():
        if v is None:
            v = math.nan
        elif isinstance(v, np.ndarray):
            v = torch.from_numpy(np.ascontiguousarray(v))[None]
        out[k] = v
    return x, out


def as_stored(array, row):
    """(tensor, label): the cube in its stored type (float16 by default)
    with a channel axis, and the row's label. Half the bytes of
    default_transform cross from the DataLoader's workers; convert on the
    device (x.to(device).float()). On 2 cores it moves about 1.5× as many
    patches per second (docs/BENCHMARKS.md)."""
    return torch.from_numpy(np.ascontiguousarray(array))[None], int(row.get("label", 0) or 0)


def _share():
    """This process's share of a stream: (i, n) over DDP ranks × DataLoader
    workers, rank-major."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    info = get_worker_info()
    wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * nw + wid, world * nw


class PatchStream(IterableDataset):
    """Patches of `mine stream KIND` on `store`, fresh every epoch.

    Each DataLoader worker (and each DDP rank) starts its own `mine stream`
    on a disjoint part of the scans (--part), so together they yield every
    sample of the epoch once. Call set_epoch(e) before each epoch, as with
    DistributedSampler: epoch e draws new centres and jitter, reproducibly
    from (seed, e), and visits the scans in a new order. Keyword options are
    `mine`'s flags (per_scan=4, seed=1, hardness="mix:0.5", size=32, ...).

    Samples are transform(array, row), default_transform by default.
    Within a part, the samples of one scan follow each other; for training,
    shuffle further with a buffer (shuffle_buffer=N keeps N samples and
    yields one at random as each new one comes).
    """

    def __init__(self, store, kind="negatives", *, epoch=0, transform=default_transform, shuffle=True,
                 shuffle_buffer=0, binary=None, workers=1, **options):
        super().__init__()
        self.store, self.kind, self.epoch = store, kind, int(epoch)
        self.transform, self.shuffle, self.shuffle_buffer = transform, shuffle, int(shuffle_buffer)
        self.binary, self.workers, self.options = binary, workers, options

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __iter__(self):
        i, n = _share()
        samples = stream(self.store, self.kind, binary=self.binary, epoch=self.epoch,
                         part=(i, n) if n > 1 else None, shuffle=self.shuffle, workers=self.workers,
                         **self.options)
        if self.shuffle_buffer > 1:
            samples = _buffered_shuffle(samples, self.shuffle_buffer,
                                        np.random.default_rng([int(self.options.get("seed", 0)), self.epoch, i]))
        try:
            for array, row in samples:
                yield self.transform(array, row) if self.transform else (array, row)
        finally:
            samples.close()


def _buffered_shuffle(items, size, rng):
    buf = []
    try:
        for x in items:
            if len(buf) < size:
                buf.append(x)
                continue
            j = int(rng.integers(size))
            yield buf[j]
            buf[j] = x
        rng.shuffle(buf)
        yield from buf
    finally:
        items.close()
