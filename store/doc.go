// Package store is voxmine's on-disk format: one Zarr v3 hierarchy per
// dataset, one shard file per scan, 32³ Blosc-LZ4 chunks, a per-chunk index
// and a catalog.
//
// A store looks like this (docs/FORMAT.md has every byte):
//
//	STORE/zarr.json                    root group, attributes.voxmine
//	STORE/catalog.jsonl                every scan's record, sorted (package jsonl)
//	STORE/catalog.log                  records stored since, folded in now and then
//	STORE/findings.jsonl               annotations, excluded findings by series
//	STORE/candidates.jsonl             candidates by series
//	STORE/scans/<uid>/zarr.json        scan group, attributes.voxmine = ScanInfo
//	STORE/scans/<uid>/hu/c/0/0/0       int16 HU on the 1 mm grid: one shard
//	STORE/scans/<uid>/lung/c/0/0/0     uint8 labels (3, 4 lungs; 5 airway)
//	STORE/scans/<uid>/chunks/c/0/0/0/0 float32 per-chunk statistics
//
// Writers never change a file in place: a scan is written to a temporary
// directory and swapped in with one rename, its record appended to the
// catalog's journal under a lock, and the tables rewritten whole and
// renamed into place. Readers map shards read-only, check every
// index entry against the file size before use and every chunk's CRC before
// decoding it, so a damaged file yields an error, not a crash.
package store
