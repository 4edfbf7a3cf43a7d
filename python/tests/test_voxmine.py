"""Tests of the voxmine Python package against a real `mine` and a small store.

Run from the repository root (make test does):
    VOXMINE_BIN=bin /usr/bin/python3 -m unittest discover -s python/tests -t python
It needs bin/ingest and bin/mine (make build) and numpy; torch tests are
skipped when torch is missing, unless VOXMINE_REQUIRE_TORCH is set.
"""

import csv
import glob
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

import voxmine  # noqa: E402

BIN = os.path.abspath(os.environ.get("VOXMINE_BIN", os.path.join(ROOT, "bin")))
MINE = os.path.join(BIN, "mine")
INGEST = os.path.join(BIN, "ingest")
os.environ["VOXMINE_MINE"] = MINE

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
    if os.environ.get("VOXMINE_REQUIRE_TORCH"):
        raise

TMP = None
STORE = None


def setUpModule():
    global TMP, STORE
    for b in (MINE, INGEST):
        if not os.path.exists(b):
            raise unittest.SkipTest(f"{b} is missing: run make build") if not os.environ.get("CI") else \
                FileNotFoundError(b)
    TMP = tempfile.mkdtemp(prefix="voxmine-py-")
    STORE = os.path.join(TMP, "store")
    subprocess.run([INGEST, "--synthetic", "3", "--small", "--seed", "1", "--src", os.path.join(TMP, "src"),
                    "--out", STORE, "--workers", "2", "--quiet"], check=True, capture_output=True)


def tearDownModule():
    if TMP:
        subprocess.run(["rm", "-rf", TMP])


def mine_procs():
    """Pids of `mine` processes working on this module's store."""
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(os.path.join(d, "cmdline"), "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"mine") and STORE.encode() in argv:
            try:
                with open(os.path.join(d, "stat")) as f:
                    if f.read().split(") ")[1].startswith("Z"):
                        continue  # a zombie has exited
            except OSError:
                continue
            pids.append(int(os.path.basename(d)))
    return pids


def wait_no_mine(test, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if not mine_procs():
            return
        time.sleep(0.05)
    test.fail(f"mine processes left behind: {mine_procs()}")


def raw_stream(*args):
    return subprocess.run([MINE, "stream", *args, "--store", STORE], check=True, capture_output=True).stdout


SMALL = dict(size=16, per_scan=5, seed=3)


class CatalogTest(unittest.TestCase):
    def test_scans_match_mine_info_csv(self):
        """voxmine.scans reads the catalog alone (snapshot and journal) into
        the rows `mine info --csv` writes."""
        import csv
        import io
        got = voxmine.scans(STORE)
        out = subprocess.run([MINE, "info", "--store", STORE, "--csv"], check=True, capture_output=True, text=True).stdout
        want = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(got), 3)
        self.assertEqual([r["seriesuid"] for r in got], [r["seriesuid"] for r in want])
        self.assertEqual(list(got[0].keys()), list(want[0].keys()))
        for g, w in zip(got, want):
            for col in ("patient_id", "kernel", "source_slices", "grid_z", "grid_y", "grid_x", "label_source",
                        "annotations", "excluded", "flags", "subset", "format", "source"):
                self.assertEqual(str(g[col]), w[col], col)
            for col in ("spacing_x_mm", "spacing_z_mm", "lung_litres"):
                self.assertAlmostEqual(float(g[col]), float(w[col]), places=3, msg=col)
        self.assertGreater(sum(r["annotations"] for r in got), 0)

    def test_journal_record_wins(self):
        """A record appended to catalog.log replaces the snapshot's; a last
        line cut by a crash is passed over."""
        import shutil
        d = os.path.join(TMP, "journal-store")
        shutil.copytree(STORE, d)
        recs = voxmine.records(d)
        r = dict(recs[0], lung_voxels=1234000)
        with open(os.path.join(d, "catalog.log"), "a") as f:
            f.write(json.dumps({"put": r}) + "\n")
            f.write('{"put": {"seriesuid": "cut')
        rows = {x["seriesuid"]: x for x in voxmine.scans(d)}
        self.assertEqual(len(rows), 3)
        self.assertAlmostEqual(rows[r["seriesuid"]]["lung_litres"], 1.234)


    def test_damaged_catalog_names_file_and_line(self):
        """A catalog line that is not a record, or a record with no series
        uid, raises CatalogError naming the file, the line and --repair."""
        import shutil
        for name, bad in (("catalog.jsonl", "{not json\n"), ("catalog.jsonl", '{"k": "1.2"}\n'),
                          ("catalog.log", '{"put": {"grid": 3}}\n'), ("catalog.log", "[1, 2]\n")):
            d = os.path.join(TMP, "damaged-store")
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(STORE, d)
            path = os.path.join(d, name)
            with open(path, "a") as f:
                f.write(bad)
            n = sum(1 for _ in open(path))
            with self.assertRaises(voxmine.CatalogError) as cm:
                voxmine.scans(d)
            msg = str(cm.exception)
            self.assertIn(f"{path}:{n}:", msg)
            self.assertIn("ingest --repair --out " + d, msg)


class StreamTest(unittest.TestCase):
    def test_same_bytes_as_file_mode(self):
        out = os.path.join(TMP, "files-neg")
        subprocess.run([MINE, "negatives", "--store", STORE, "--out", out, "--size", "16", "--per-scan", "5",
                        "--seed", "3", "--quiet"], check=True, capture_output=True)
        with open(os.path.join(out, "bg_index.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        got = list(voxmine.stream(STORE, "negatives", **SMALL))
        self.assertEqual(len(got), len(rows))
        self.assertGreater(len(rows), 0)
        # The raw members are the files' bytes.
        members = {}
        with tarfile.open(fileobj=io.BytesIO(raw_stream("negatives", "--size", "16", "--per-scan", "5", "--seed", "3")),
                          mode="r:") as tf:
            for m in tf:
                members[m.name] = tf.extractfile(m).read()
        by_key = {r["key"]: (a, r) for a, r in got}
        for row in rows:
            arr, srow = by_key[row["patch_file"][:-4].replace(".", "_")]
            with open(os.path.join(out, row["patch_file"]), "rb") as f:
                data = f.read()
            key = row["patch_file"][:-4].replace(".", "_")
            self.assertEqual(members[key + ".npy"], data)
            np.testing.assert_array_equal(arr, np.load(os.path.join(out, row["patch_file"])))
            self.assertEqual(srow["seriesuid"], row["seriesuid"])
            self.assertEqual(srow["key"], key)
            for col in ("center_z", "center_y", "center_x"):
                self.assertEqual(srow[col], int(row[col]))
            self.assertEqual(set(srow) - {"epoch", "key"}, set(row))

    def test_reproducible_and_fresh_per_epoch(self):
        a = raw_stream("negatives", "--size", "16", "--per-scan", "5", "--seed", "3", "--epoch", "2")
        b = raw_stream("negatives", "--size", "16", "--per-scan", "5", "--seed", "3", "--epoch", "2")
        self.assertEqual(a, b)
        centres = {}
        for e in (0, 1, 2):
            centres[e] = {(r["seriesuid"], r["center_z"], r["center_y"], r["center_x"])
                          for _, r in voxmine.stream(STORE, "negatives", epoch=e, **SMALL)}
            self.assertTrue(all(r["epoch"] == e for _, r in voxmine.stream(STORE, "negatives", epoch=e, **SMALL)))
        self.assertFalse(centres[0] & centres[1])
        self.assertFalse(centres[1] & centres[2])

    def test_parts_are_disjoint_and_whole(self):
        for kind, opts in (("negatives", SMALL), ("dataset", dict(size=16, negatives_per_positive=3, copies=2, jitter=2, seed=1))):
            whole = {r["key"]: a.tobytes() for a, r in voxmine.stream(STORE, kind, epoch=1, **opts)}
            parts = [{r["key"]: a.tobytes() for a, r in voxmine.stream(STORE, kind, epoch=1, part=(i, 3), **opts)}
                     for i in range(3)]
            seen = {}
            for p in parts:
                self.assertFalse(set(p) & set(seen), kind)
                seen.update(p)
            self.assertEqual(seen, whole, kind)
            self.assertGreater(len(whole), 3, kind)

    def test_tarfile_reads_it_alone(self):
        # No voxmine code: tarfile and numpy on mine's stdout.
        proc = subprocess.Popen([MINE, "stream", "positives", "--store", STORE, "--size", "16", "--copies", "1",
                                 "--jitter", "2", "--labels"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        names = []
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            for m in tf:
                data = tf.extractfile(m).read()
                names.append(m.name)
                self.assertEqual(m.name.split(".")[0].count("_") > 0, True)
                if m.name.endswith(".labels.npy"):
                    self.assertEqual(np.load(io.BytesIO(data)).dtype, np.uint8)
                elif m.name.endswith(".npy"):
                    self.assertEqual(np.load(io.BytesIO(data)).shape, (16, 16, 16))
                else:
                    self.assertEqual(json.loads(data)["label"], 1)
        self.assertEqual(proc.wait(), 0)
        proc.stdout.close()
        proc.stderr.close()
        self.assertTrue(names)
        self.assertEqual(len(names) % 3, 0)
        for n in names:
            self.assertNotIn(".", n.split(".")[0])

    def test_empty_part(self):
        # More parts than scans: some parts hold nothing, which is no error.
        got = [list(voxmine.stream(STORE, "negatives", part=(i, 5), **SMALL)) for i in range(5)]
        self.assertEqual([len(g) for g in got].count(0), 2)
        self.assertEqual(sum(len(g) for g in got), len(list(voxmine.stream(STORE, "negatives", **SMALL))))

    def test_nodule_mask_sphere(self):
        got = list(voxmine.stream(STORE, "positives", size=32, nodule_mask=True))
        self.assertTrue(got)
        for cube, row in got:
            m = row["nodule"]
            self.assertEqual((m.dtype, m.shape), (np.uint8, (32, 32, 32)))
            self.assertEqual(row["nodule_mask"], "sphere")
            self.assertEqual(m[16, 16, 16], 1)
            r = row["diameter_mm"] / 2
            if r < 14:  # the whole sphere is in the cube
                want = 4 / 3 * np.pi * r ** 3
                self.assertLess(abs(m.sum() - want) / want, 0.25, (m.sum(), want))

    def test_go_error_surfaces(self):
        with self.assertRaises(voxmine.StreamError) as cm:
            list(voxmine.stream(os.path.join(TMP, "no-such-store"), "negatives"))
        self.assertNotEqual(cm.exception.returncode, 0)
        self.assertIn("no-such-store", cm.exception.stderr)
        with self.assertRaises(voxmine.StreamError) as cm:
            list(voxmine.stream(STORE, "negatives", per_scan=0))
        self.assertIn("per-scan", cm.exception.stderr)

    def test_no_process_left_behind(self):
        big = dict(size=32, per_scan=400, seed=1)
        g = voxmine.stream(STORE, "negatives", **big)
        for i, _ in enumerate(g):
            if i == 2:
                break
        g.close()
        wait_no_mine(self)

        def fails():
            for i, _ in enumerate(voxmine.stream(STORE, "negatives", **big)):
                if i == 1:
                    raise KeyError("in the training loop")
        with self.assertRaises(KeyError):
            fails()
        wait_no_mine(self)

        # A Python process killed outright (as a DataLoader worker can be)
        # takes its mine with it.
        code = ("import os, sys, voxmine\n"
                "g = voxmine.stream(sys.argv[1], 'negatives', size=32, per_scan=400)\n"
                "next(g); print('started', flush=True); os.kill(os.getpid(), 9)\n")
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        p = subprocess.run([sys.executable, "-c", code, STORE], capture_output=True, env=env, timeout=60)
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        self.assertIn(b"started", p.stdout)
        wait_no_mine(self)


class AugmentTest(unittest.TestCase):
    """Augmented cubes against an independent resampling: scipy's
    affine_transform (order 1) on a box that `mine roi` reads, then numpy's
    flip and rot90, as each row records them."""

    def test_matches_scipy(self):
        try:
            from scipy.ndimage import affine_transform
        except ImportError:
            if os.environ.get("CI"):
                raise
            self.skipTest("scipy is not installed")
        size, half = 24, 12
        got = list(voxmine.stream(STORE, "positives", size=size, dtype="i16", copies=2, jitter=2, seed=4, epoch=1,
                                  aug_rotate=40, aug_scale="0.8,1.25", aug_flip=True, aug_rot90=True, labels=True))
        self.assertGreater(len(got), 3)
        box_size = 2 * int(np.ceil(half * np.sqrt(3) / 0.8)) + 6
        planes = {"yx": (1, 2), "zx": (0, 2), "zy": (0, 1)}
        turned = 0
        for cube, row in got:
            m = np.array([float(v) for v in row["aug_matrix"].split()]).reshape(3, 3)
            self.assertAlmostEqual(abs(np.linalg.det(m)), row["aug_scale"] ** -3, places=4)
            c = (row["center_z"], row["center_y"], row["center_x"])
            out = os.path.join(TMP, "box.npy")
            subprocess.run([MINE, "roi", "--store", STORE, "--uid", row["seriesuid"], "--voxel", "%d,%d,%d" % c,
                            "--size", str(box_size), "--dtype", "i16", "--out", out, "--overwrite"],
                           check=True, capture_output=True)
            box = np.load(out).astype(np.float64)
            offset = np.full(3, box_size // 2) - m @ np.full(3, half)
            want = affine_transform(box, m, offset=offset, output_shape=(size,) * 3, order=1, mode="nearest")
            want = np.sign(want) * np.floor(np.abs(want) + 0.5)  # halves away from zero, as Go's math.Round
            for axis, letter in enumerate("zyx"):
                if letter in row["aug_flip"]:
                    want = np.flip(want, axis)
            if row["aug_rot90"]:
                k, plane = row["aug_rot90"].split("@")
                want = np.rot90(want, int(k), axes=planes[plane])
                turned += 1
            diff = np.abs(want - cube.astype(np.float64))
            self.assertLessEqual(diff.max(), 1, row["key"])
            self.assertGreater((diff == 0).mean(), 0.995, row["key"])
            self.assertEqual(row["labels"].shape, (size,) * 3)
        self.assertGreater(turned, 0)
        # Reproducible per (seed, epoch, sample); another epoch, other transforms.
        again = list(voxmine.stream(STORE, "positives", size=size, dtype="i16", copies=2, jitter=2, seed=4, epoch=1,
                                    aug_rotate=40, aug_scale="0.8,1.25", aug_flip=True, aug_rot90=True))
        self.assertEqual([r["aug_matrix"] for _, r in got], [r["aug_matrix"] for _, r in again])
        other = list(voxmine.stream(STORE, "positives", size=size, dtype="i16", copies=2, jitter=2, seed=4, epoch=2,
                                    aug_rotate=40))
        self.assertNotEqual([r["aug_matrix"] for _, r in got], [r["aug_matrix"] for _, r in other])


class FolderTest(unittest.TestCase):
    def test_folder_pack_and_shards(self):
        out = os.path.join(TMP, "files-pos")
        subprocess.run([MINE, "positives", "--store", STORE, "--out", out, "--size", "16", "--copies", "2",
                        "--jitter", "2", "--seed", "1", "--pack", "--quiet"], check=True, capture_output=True)
        files = voxmine.PatchFolder(out, prefer_pack=False)
        packed = voxmine.PatchFolder(out)
        self.assertEqual(len(files), len(packed))
        self.assertGreater(len(files), 0)
        shard_dir = os.path.join(TMP, "shards")
        os.makedirs(shard_dir, exist_ok=True)
        with open(os.path.join(shard_dir, "shard-000000.tar"), "wb") as f:
            f.write(raw_stream("positives", "--size", "16", "--copies", "2", "--jitter", "2", "--seed", "1"))
        shards = voxmine.PatchFolder(shard_dir)
        self.assertEqual(len(shards), len(files))
        # The same run as size-capped shards written by mine itself.
        capped = os.path.join(TMP, "capped")
        subprocess.run([MINE, "positives", "--store", STORE, "--out", capped, "--size", "16", "--copies", "2",
                        "--jitter", "2", "--seed", "1", "--format", "tar", "--shard-size", "20K", "--quiet"],
                       check=True, capture_output=True)
        names = sorted(os.listdir(capped))
        self.assertIn("run.json", names)
        self.assertGreater(len([n for n in names if n.startswith("shard-")]), 1)
        from_capped = voxmine.PatchFolder(capped)
        self.assertEqual([r["key"] for r in from_capped.rows], [r["key"] for r in shards.rows])
        for i in range(len(shards)):
            np.testing.assert_array_equal(from_capped[i][0], shards[i][0])
        # The stream cuts a scan's cubes in chunk order, not index order.
        in_shards = {shards.rows[i]["patch_file"][:-4]: i for i in range(len(shards))}
        for i in range(len(files)):
            a, r = files[i]
            b, _ = packed[i]
            c, rc = shards[in_shards[r["patch_file"][:-4].replace(".", "_")]]
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)
            self.assertEqual(r["seriesuid"], rc["seriesuid"])
            self.assertEqual(r["center_z"], rc["center_z"])
            self.assertIsInstance(r["center_z"], int)


@unittest.skipUnless(HAVE_TORCH, "torch is not installed")
class TorchTest(unittest.TestCase):
    def test_dataloader_workers_and_epochs(self):
        import torch
        from torch.utils.data import DataLoader
        from voxmine.torch import PatchStream

        ds = PatchStream(STORE, "negatives", **SMALL)
        whole = {r["key"] for _, r in voxmine.stream(STORE, "negatives", shuffle=True, **SMALL)}
        for epoch in (0, 1):
            ds.set_epoch(epoch)
            keys, centres = [], set()
            for x, row in DataLoader(ds, batch_size=4, num_workers=2):
                self.assertEqual(tuple(x.shape[1:]), (1, 16, 16, 16))
                self.assertEqual(x.dtype, torch.float32)
                keys += list(row["key"])
                centres |= set(zip(row["seriesuid"], row["center_z"].tolist(), row["center_y"].tolist(),
                                   row["center_x"].tolist()))
                self.assertTrue((row["epoch"] == epoch).all())
            self.assertEqual(len(keys), len(set(keys)))
            self.assertEqual(set(keys), whole)
            if epoch == 0:
                first = centres
            else:
                self.assertFalse(centres & first)
        wait_no_mine(self)

    def test_ddp_ranks_share_the_epoch(self):
        # Two DDP ranks (gloo on CPU, rendezvous through a file), each with
        # two DataLoader workers: four disjoint parts, one epoch together.
        script = (
            "import json, os, sys, torch, torch.distributed as dist\n"
            "from torch.utils.data import DataLoader\n"
            "from voxmine.torch import PatchStream\n"
            "rank, init, store, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n"
            "dist.init_process_group('gloo', init_method='file://' + init, rank=rank, world_size=2)\n"
            "ds = PatchStream(store, 'negatives', size=16, per_scan=5, seed=3, epoch=1)\n"
            "keys = [k for _, row in DataLoader(ds, batch_size=4, num_workers=2) for k in row['key']]\n"
            "json.dump(keys, open(out, 'w'))\n"
            "dist.barrier()\n"
            "dist.destroy_process_group()\n")
        init = os.path.join(TMP, "ddp-init")
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        outs = [os.path.join(TMP, f"ddp-{r}.json") for r in range(2)]
        procs = [subprocess.Popen([sys.executable, "-c", script, str(r), init, STORE, outs[r]], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for r in range(2)]
        for p in procs:
            _, err = p.communicate(timeout=240)
            self.assertEqual(p.returncode, 0, err.decode(errors="replace"))
        ranks = []
        for o in outs:
            with open(o) as f:
                ranks.append(set(json.load(f)))
        whole = {r["key"] for _, r in voxmine.stream(STORE, "negatives", epoch=1, **SMALL)}
        self.assertFalse(ranks[0] & ranks[1])
        self.assertEqual(ranks[0] | ranks[1], whole)
        self.assertTrue(ranks[0] and ranks[1])
        wait_no_mine(self)

    def test_dataloader_shutdown_leaves_nothing(self):
        # Leaving a DataLoader loop early shuts its workers down; their
        # mine processes go with them.
        from torch.utils.data import DataLoader
        from voxmine.torch import PatchStream

        loader = DataLoader(PatchStream(STORE, "negatives", size=32, per_scan=300, seed=1), batch_size=2, num_workers=2)
        for i, _ in enumerate(loader):
            if i == 1:
                self.assertEqual(len(mine_procs()), 2)  # one per worker, cutting
                break
        wait_no_mine(self)

    def test_one_training_step(self):
        import torch
        from torch.utils.data import DataLoader
        from voxmine.torch import PatchStream

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                  torch.nn.AdaptiveAvgPool3d(1), torch.nn.Flatten(), torch.nn.Linear(4, 1))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        ds = PatchStream(STORE, "dataset", size=16, negatives_per_positive=2, copies=1, jitter=2, seed=1,
                         shuffle_buffer=8)
        before = [p.detach().clone() for p in net.parameters()]
        steps = 0
        for x, row in DataLoader(ds, batch_size=4, num_workers=1):
            y = row["label"].float()[:, None]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            self.assertTrue(torch.isfinite(loss))
        self.assertGreater(steps, 0)
        self.assertTrue(any((a != b).any() for a, b in zip(before, net.parameters())))
        wait_no_mine(self)


@unittest.skipUnless(HAVE_TORCH, "torch is not installed")
class TrainingDocTest(unittest.TestCase):
    def test_training_md_loop_runs(self):
        with open(os.path.join(ROOT, "docs", "TRAINING.md")) as f:
            doc = f.read()
        blocks = doc.split("```python\n")
        loop = [c for c in (b.split("```")[0] for b in blocks[1:]) if "PatchStream" in c]
        self.assertTrue(loop, "docs/TRAINING.md has no PatchStream loop")
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        r = subprocess.run([sys.executable, "-c", loop[0], STORE], capture_output=True, text=True, env=env,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertNotIn(" 0 patches", r.stdout)
        wait_no_mine(self)


class InstallTest(unittest.TestCase):
    def test_pip_installs_offline(self):
        try:
            import pip  # noqa: F401
        except ImportError:
            self.skipTest("pip is not installed")
        target = os.path.join(TMP, "site")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                            "--disable-pip-version-check", "--target", target, os.path.join(ROOT, "python")],
                           capture_output=True, text=True, env=dict(os.environ, PIP_NO_INPUT="1"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([sys.executable, "-c", "import voxmine, voxmine.folder; print(voxmine.__file__)"],
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=target), cwd=TMP)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip().startswith(target), r.stdout)


if __name__ == "__main__":
    unittest.main()
