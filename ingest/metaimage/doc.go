// Package metaimage reads and writes MetaImage (.mhd/.mha with .raw or
// .zraw data), the format LUNA16 ships, the way ITK's MetaIO does: every
// element type, both byte orders, zlib and gzip data, HeaderSize including
// −1, LOCAL data in .mha, the key synonyms, and the direction matrix
// written axis by axis. Slice lists and file patterns are refused with an
// UnsupportedError. Format adapts it to ingest's source.Format.
package metaimage
