// Package jsonl reads and writes sorted JSON Lines tables: a header line
// (one JSON object about the table as a whole), then one JSON object a
// line, sorted by a key, the value of each object's first member, which
// is a string.
//
// A store's catalog, findings and candidates are such tables. The form was
// chosen by measurement (docs/BENCHMARKS.md, "Catalog at scale"): one JSON
// document of 200,000 scan records takes seconds to parse and a gigabyte to
// hold, yet a run that mines 100 of them needs 100 records. Sorted lines
// let a reader find one record by binary search over the file, reading a
// few pages and parsing one line, and stream all of them in constant
// memory; and every JSON Lines reader (pandas' read_json(lines=True), jq,
// DuckDB) reads the table without voxmine.
//
// Tables are written whole and atomically (Write); appending is left to a
// journal beside the table, which the caller folds in now and then.
package jsonl
