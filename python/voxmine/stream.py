"""Patches from a running `mine stream`: a tar on a pipe, read as it comes."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading

import numpy as np

__all__ = ["stream", "StreamError", "mine_command", "find_mine", "read_samples"]


class StreamError(RuntimeError):
    """The `mine` process failed. `returncode` is its exit status and
    `stderr` what it said: the scans it skipped or could not read, or why
    it refused the run."""

    def __init__(self, returncode, stderr, argv):
        self.returncode = returncode
        self.stderr = stderr
        self.argv = list(argv)
        super().__init__(f"mine exited with status {returncode}: {stderr.strip() or '(no message)'}")


def find_mine(binary=None):
    """The `mine` executable: `binary` if given, else $VOXMINE_MINE, else
    `mine` on PATH."""
    cand = binary or os.environ.get("VOXMINE_MINE") or shutil.which("mine")
    if not cand:
        raise FileNotFoundError(
            "the voxmine `mine` command was not found: put it on PATH, set VOXMINE_MINE, or pass binary=")
    return cand


def _flag(name, value):
    """One option as `mine` takes it: seeds=1 → ["--seeds", "1"]; True → a bare flag."""
    opt = "--" + name.replace("_", "-")
    if value is None or value is False:
        return []
    if value is True:
        return [opt]
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return [opt, str(value)]


def mine_command(store, kind="negatives", *, binary=None, epoch=0, part=None, shuffle=False,
                 labels=False, workers=None, **options):
    """The argv of `mine stream KIND` for these settings.

    `options` are the command's own flags by their names, underscores for
    dashes: per_scan=4, seed=1, min_dist=15, hardness="mix:0.5", size=32.
    `part` is (i, n) or "i/n".
    """
    argv = [find_mine(binary), "stream", kind, "--store", os.fspath(store)]
    if epoch:
        argv += ["--epoch", str(int(epoch))]
    if part is not None:
        if not isinstance(part, str):
            i, n = part
            part = f"{int(i)}/{int(n)}"
        argv += ["--part", part]
    argv += _flag("shuffle", shuffle) + _flag("labels", labels)
    if workers:
        argv += ["--workers", str(int(workers))]
    for k, v in options.items():
        argv += _flag(k, v)
    return argv


def _load_npy(data):
    return np.load(io.BytesIO(data), allow_pickle=False)


def read_samples(fileobj):
    """Yield (array, row) from a tar in voxmine's stream layout (a stream,
    or a shard on disk opened in binary mode). KEY.npy is the array,
    KEY.json the row; KEY.labels.npy, when present, is put in the row as
    "labels". The tar is read front to back, never seeked."""
    key, parts = None, {}

    def done():
        arr = parts.get("npy")
        if arr is None:
            raise ValueError(f"sample {key!r} has no .npy member")
        row = parts.get("json") or {}
        if "labels.npy" in parts:
            row["labels"] = parts["labels.npy"]
        return arr, row

    try:
        tf = tarfile.open(fileobj=fileobj, mode="r|")
    except tarfile.ReadError as e:
        if "empty file" in str(e):
            return  # a stream with no sample: an end-of-archive marker only
        raise
    with tf:
        for m in tf:
            if not m.isfile():
                continue
            base = m.name.rsplit("/", 1)[-1]
            k, _, ext = base.partition(".")
            if key is not None and k != key:
                yield done()
                parts = {}
            key = k
            data = tf.extractfile(m).read()
            if ext == "json":
                parts[ext] = json.loads(data)
            elif ext.endswith("npy"):
                parts[ext] = _load_npy(data)
    if key is not None:
        yield done()


def _die_with_parent():
    """Run in the child before exec (Linux): a SIGKILLed parent takes the
    child with it instead of leaving it running."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def stream(store, kind="negatives", *, binary=None, epoch=0, part=None, shuffle=False, labels=False,
           workers=None, **options):
    """Yield (array, row) for every patch of `mine stream KIND` on `store`.

    The array is the cube as numpy (float16 by default, shaped
    (size, size, size)); the row is its index row as a dict, every column
    of the file run's index CSV plus "epoch" and "key". With labels=True the
    row also holds "labels", the cube's lung labels (uint8).

    The `mine` process runs while the generator is consumed; closing the
    generator (a `break`, an exception in the loop, garbage collection)
    stops it. A failed run raises StreamError with mine's stderr once the
    samples it did cut have been yielded.
    """
    argv = mine_command(store, kind, binary=binary, epoch=epoch, part=part, shuffle=shuffle,
                        labels=labels, workers=workers, **options)
    pre = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            preexec_fn=pre, bufsize=1 << 20)
    err_chunks = []
    drain = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    drain.start()
    finished = False
    try:
        try:
            for sample in read_samples(proc.stdout):
                yield sample
        except tarfile.TarError as e:
            # A stream cut short: the process's own error says why.
            proc.wait()
            drain.join()
            err = b"".join(err_chunks).decode(errors="replace")
            raise StreamError(proc.returncode, err or str(e), argv) from e
        code = proc.wait()
        drain.join()
        finished = True
        if code != 0:
            raise StreamError(code, b"".join(err_chunks).decode(errors="replace"), argv)
    finally:
        if not finished and proc.poll() is None:
            proc.kill()
        proc.wait()
        drain.join(5)
        for f in (proc.stdout, proc.stderr):
            try:
                f.close()
            except Exception:
                pass
