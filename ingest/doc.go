// Package ingest turns LUNA16-style scans into a voxmine store: it finds
// MetaImage files, reads them (every element type, byte order, zlib or
// gzip data, LOCAL data, HeaderSize), resamples them to 1 mm exactly as
// SimpleITK does, imports or computes lung masks, reads the dataset's CSVs
// and writes everything with store.Writer.
//
// Run is the whole job; it never prints. One bad scan is reported in the
// Report and does not stop the others.
package ingest
