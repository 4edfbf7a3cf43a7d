// Reads a voxmine store with zarrita, an independent Zarr v3 implementation
// (its blosc is the C library compiled to WebAssembly), and dumps what it
// reads so the Go test can compare it with voxmine's own reader.
//
// usage: node read.mjs STORE OUTDIR
import * as zarr from "zarrita";
import { FileSystemStore } from "@zarrita/storage";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [storeDir, outDir] = process.argv.slice(2);
const store = new FileSystemStore(storeDir);
const root = await zarr.open.v3(zarr.root(store), { kind: "group" });
// The catalog: the snapshot catalog.jsonl (a header line, then a scan
// record a line), then the records catalog.log appended since
// (docs/FORMAT.md), the last record of a uid winning.
const snapshot = join(storeDir, "catalog.jsonl");
const byUID = new Map();
if (existsSync(snapshot)) {
  const lines = readFileSync(snapshot, "utf8").split("\n").filter((l) => l.trim());
  if (JSON.parse(lines[0]).voxmine !== "catalog") throw new Error("catalog.jsonl: no header line");
  for (const line of lines.slice(1)) {
    const s = JSON.parse(line);
    byUID.set(s.seriesuid, s);
  }
}
const journal = join(storeDir, "catalog.log");
if (existsSync(journal)) {
  for (const line of readFileSync(journal, "utf8").split("\n")) {
    if (line.trim()) byUID.set(JSON.parse(line).put.seriesuid, JSON.parse(line).put);
  }
}
const catalog = { scans: [...byUID.values()].sort((a, b) => (a.seriesuid < b.seriesuid ? -1 : 1)) };
const report = { root: root.attrs, scans: {} };
for (const scan of catalog.scans) {
  const uid = scan.seriesuid;
  const group = await zarr.open.v3(root.resolve(`scans/${uid}`), { kind: "group" });
  const entry = { attrs: group.attrs, arrays: {} };
  for (const name of ["hu", "lung", "chunks"]) {
    let arr;
    try {
      arr = await zarr.open.v3(group.resolve(name), { kind: "array" });
    } catch (e) {
      continue; // no label array
    }
    const all = await zarr.get(arr, arr.shape.map(() => null));
    const file = join(outDir, `${uid}.${name}.bin`);
    writeFileSync(file, Buffer.from(all.data.buffer, all.data.byteOffset, all.data.byteLength));
    entry.arrays[name] = { shape: arr.shape, dtype: arr.dtype, file };
  }
  report.scans[uid] = entry;
}
writeFileSync(join(outDir, "report.json"), JSON.stringify(report, null, 1));
