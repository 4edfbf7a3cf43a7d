// Package ingest turns a dataset's scans into a voxmine store: it finds the
// scans with the formats it is given (ingest/metaimage by default; each
// format is a package behind the ingest/source contract), reads them as HU,
// resamples them to 1 mm exactly as SimpleITK does, imports or computes lung
// masks, reads the dataset's CSVs and writes everything with store.Writer.
// The pipeline reads the same whatever the format.
//
// Run is the whole job; it never prints. One bad scan is reported in the
// Report and does not stop the others.
package ingest
