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


_NPY_DTYPES = {}


def _load_npy(data):
    """An .npy file's array, a view of data where it can be. np.load parses
    the header with a general literal parser and copies; voxmine's headers
    are always the simple form, read here directly (anything else goes to
    np.load)."""
    mv = memoryview(data)
    if bytes(mv[:6]) == b"\x93NUMPY" and mv[6] == 1:
        hlen = int.from_bytes(mv[8:10], "little")
        header = bytes(mv[10:10 + hlen]).decode("latin1")
        try:
            d = header.index("'descr': '") + 10
            descr = header[d:header.index("'", d)]
            sh = header.index("'shape': (") + 10
            shape = tuple(int(x) for x in header[sh:header.index(")", sh)].split(",") if x.strip())
            if "'fortran_order': False" in header:
                dt = _NPY_DTYPES.get(descr)
                if dt is None:
                    dt = _NPY_DTYPES[descr] = np.dtype(descr)
                return np.frombuffer(data, dtype=dt, offset=10 + hlen).reshape(shape)
        except ValueError:
            pass
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)


def _read_exact(f, n):
    """n bytes from f, or fewer at the end of the stream."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            break
        got += k
    return buf if got == n else buf[:got]


def _octal(field):
    if field[0] & 0x80:  # base-256, for sizes of 8 GiB and more
        return int.from_bytes(field[1:], "big")
    return int(bytes(field).rstrip(b"\0 ").strip() or b"0", 8)


def _tar_members(f):
    """Yield (name, data) for each regular file of a POSIX tar read front to
    back from f (ustar and pax headers, GNU long names). Python's tarfile
    reads a stream in 10 KiB pieces and joins them, which costs more than
    cutting the cubes; this reads each member in one piece."""
    long_name = None
    while True:
        hdr = _read_exact(f, 512)
        if len(hdr) < 512:
            if len(hdr):
                raise tarfile.ReadError("unexpected end of stream in a tar header")
            return
        if not any(hdr):
            return  # the end-of-archive marker
        size, kind = _octal(hdr[124:136]), bytes(hdr[156:157])
        data = _read_exact(f, size)
        pad = (-size) % 512
        if len(data) < size or (pad and len(_read_exact(f, pad)) < pad):
            raise tarfile.ReadError("unexpected end of stream in a tar member")
        if kind == b"x":  # pax records: "LEN key=value\n"
            rec, i = bytes(data), 0
            while i < len(rec):
                sp = rec.index(b" ", i)
                n = int(rec[i:sp])
                key, _, val = rec[sp + 1:i + n - 1].partition(b"=")
                if key == b"path":
                    long_name = val.decode("utf-8")
                i += n
            continue
        if kind == b"L":  # GNU long name
            long_name = bytes(data).rstrip(b"\0").decode("utf-8")
            continue
        name, long_name = long_name, None
        if name is None:
            name = bytes(hdr[0:100]).split(b"\0", 1)[0].decode("utf-8")
            prefix = bytes(hdr[345:500]).split(b"\0", 1)[0].decode("utf-8") if hdr[257:262] == b"ustar" else ""
            if prefix:
                name = prefix + "/" + name
        if kind in (b"0", b"\0", b"7"):
            yield name, data


def read_samples(fileobj):
    """Yield (array, row) from a tar in voxmine's stream layout (a stream,
    or a shard on disk opened in binary mode). KEY.npy is the array,
    KEY.json the row; KEY.labels.npy (and any other KEY.*.npy), when
    present, is put in the row under its middle name ("labels"). The tar is
    read front to back, never seeked; a tar with no member yields nothing."""
    key, parts = None, {}

    def done():
        arr = parts.pop("npy", None)
        if arr is None:
            raise ValueError(f"sample {key!r} has no .npy member")
        row = parts.pop("json", None) or {}
        for ext, extra in parts.items():
            row[ext[:-4] if ext.endswith(".npy") else ext] = extra
        return arr, row

    for name, data in _tar_members(fileobj):
        k, _, ext = name.rsplit("/", 1)[-1].partition(".")
        if key is not None and k != key:
            yield done()
            parts = {}
        key = k
        if ext == "json":
            parts[ext] = json.loads(bytes(data))
        elif ext.endswith("npy"):
            parts[ext] = _load_npy(data)
    if key is not None:
        yield done()


def _widen_pipe(f, size=4 << 20):
    """Linux: grow the pipe from 64 KiB to a few MiB (F_SETPIPE_SZ), so that
    mine writes whole cubes without waiting for each 64 KiB to be read.
    Where it cannot (another system, a lower /proc/sys/fs/pipe-max-size for
    unprivileged users), the pipe stays as it is."""
    try:
        import fcntl
        for n in (size, 1 << 20):
            try:
                fcntl.fcntl(f.fileno(), 1031, n)  # F_SETPIPE_SZ
                return
            except OSError:
                continue
    except (ImportError, AttributeError, ValueError):
        pass


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
    _widen_pipe(proc.stdout)
    err_chunks = []
    drain = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    drain.start()
    finished = False
    try:
        try:
            for sample in read_samples(proc.stdout):
                yield sample
        except (tarfile.TarError, ValueError) as e:
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
