"""The store's catalog read directly, without the `mine` command.

A voxmine store keeps its scans' records in catalog.jsonl (a header line,
then one JSON record a line, sorted by series uid) and the records stored
since in catalog.log, and the findings in findings.jsonl
(docs/FORMAT.md). scans() reads them into one flat row per scan, the
columns of `mine info --csv`, ready for pandas:

    import pandas as pd, voxmine
    df = pd.DataFrame(voxmine.scans("store/"))
    thin = df[df.slice_thickness_mm <= 1.25]
"""

import json
import os

__all__ = ["scans", "records", "CatalogError"]


class CatalogError(ValueError):
    """A catalog or findings file that does not read: the message names the
    file and line, and says how to write it again."""


def _damaged(path, n, what):
    store = os.path.dirname(path) or "."
    if os.path.basename(path).startswith("catalog"):
        fix = f"rebuild the catalog from the scan folders with: ingest --repair --out {store}"
    else:
        fix = f"write the findings again with: ingest --out {store} --annotations CSV …"
    return CatalogError(f"{path}:{n}: {what}; {fix}")


def _lines(path, key=None, header=False):
    """The JSON objects of a jsonl table (its header first) or of a
    journal, in order; a last line without its newline (a write cut by a
    crash) is passed over, as voxmine does. With key, a record (not the
    header) must give a series uid."""
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        return
    with f:
        for n, line in enumerate(f, 1):
            if not (line.endswith("\n") and line.strip()):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise _damaged(path, n, f"not a JSON record ({e.msg})") from None
            if not isinstance(r, dict):
                raise _damaged(path, n, "not a JSON object")
            if key is not None and not (header and n == 1) and not isinstance(key(r), str):
                raise _damaged(path, n, "a record without a series uid")
            yield r


def _uid(r):
    return r.get("seriesuid")


def _put_uid(r):
    put = r.get("put")
    return put.get("seriesuid") if isinstance(put, dict) else None


def _table(path, kind):
    rows = _lines(path, key=_uid, header=True)
    header = next(rows, None)
    if header is None:
        return
    if header.get("voxmine") != kind:
        raise CatalogError(f"{path}:1: not the header of a voxmine {kind} table")
    yield from rows


def records(store):
    """Every scan's record (a dict, as FORMAT.md describes it), sorted by
    series uid: the snapshot's, with the journal's records applied, the
    last of a uid winning. A store of format 1 (catalog.json) is read too."""
    by_uid = {}
    legacy = os.path.join(store, "catalog.json")
    if os.path.exists(os.path.join(store, "catalog.jsonl")):
        for r in _table(os.path.join(store, "catalog.jsonl"), "catalog"):
            by_uid[r["seriesuid"]] = r
    elif os.path.exists(legacy):
        with open(legacy, encoding="utf-8") as f:
            for r in json.load(f)["scans"]:
                by_uid[r["seriesuid"]] = r
    for rec in _lines(os.path.join(store, "catalog.log"), key=_put_uid):
        r = rec["put"]
        by_uid[r["seriesuid"]] = r
    return [by_uid[u] for u in sorted(by_uid)]


def _findings(store):
    path = os.path.join(store, "findings.jsonl")
    if os.path.exists(path):
        return {r["seriesuid"]: r for r in _table(path, "findings")}
    legacy = os.path.join(store, "findings.json")
    if os.path.exists(legacy):
        with open(legacy, encoding="utf-8") as f:
            return json.load(f).get("series", {})
    return {}


def _subset(path):
    """LUNA16's fold, from a subsetN folder in the source path ("" else)."""
    for part in reversed(path.replace("\\", "/").split("/")[:-1]):
        if part.startswith("subset") and part[6:].isdigit():
            return part[6:]
    return ""


def scans(store):
    """One flat row (a dict) per scan: who and what it is, its grids, its
    lungs and findings; the columns of `mine info --csv`."""
    findings = _findings(store)
    out = []
    for r in records(store):
        src = r.get("source", {})
        geo = src.get("geometry", {})
        spacing = geo.get("spacing_xyz", [0, 0, 0])
        grid = r.get("grid", {}).get("shape_zyx", [0, 0, 0])
        f = findings.get(r["seriesuid"], {})
        out.append({
            "seriesuid": r["seriesuid"],
            "patient_id": src.get("patient_id") or f.get("patient_id", ""),
            "study_uid": src.get("study_uid", ""),
            "study_date": src.get("study_date", ""),
            "series_description": src.get("series_description", ""),
            "kernel": src.get("kernel", ""),
            "slice_thickness_mm": src.get("slice_thickness"),
            "spacing_x_mm": spacing[0], "spacing_y_mm": spacing[1], "spacing_z_mm": spacing[2],
            "source_slices": geo.get("shape_zyx", [0])[0],
            "grid_z": grid[0], "grid_y": grid[1], "grid_x": grid[2],
            "lung_litres": r.get("lung_voxels", 0) / 1e6,
            "label_source": r.get("label_source", ""),
            "annotations": len(f.get("annotations") or []),
            "excluded": len(f.get("excluded") or []),
            "flags": "; ".join(r.get("flags") or []),
            "subset": _subset(src.get("path", "")),
            "format": src.get("format", ""),
            "source": src.get("path", ""),
        })
    return out
