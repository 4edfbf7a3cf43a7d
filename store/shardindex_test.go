package store

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// shardFixture writes a small scan and returns its HU shard's path and
// chunk grid.
func shardFixture(t testing.TB) (string, [3]int) {
	t.Helper()
	shape := [3]int{40, 70, 66}
	dir := writeTestStore(t, testScan("1.2.3", shape, 3, false))
	return filepath.Join(dir, "scans", "1.2.3", "hu", "c", "0", "0", "0"), [3]int{2, 3, 3}
}

// rewriteIndex applies edit to a shard's index entries (offset, nbytes
// pairs) and stores them with a valid CRC: a damage the CRC cannot see.
func rewriteIndex(t testing.TB, path string, n int, edit func(entries []uint64)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	idx := b[len(b)-shardIndexSize(n):]
	entries := make([]uint64, 2*n)
	for i := range entries {
		entries[i] = binary.LittleEndian.Uint64(idx[8*i:])
	}
	edit(entries)
	for i, v := range entries {
		binary.LittleEndian.PutUint64(idx[8*i:], v)
	}
	binary.LittleEndian.PutUint32(idx[indexEntrySize*n:], crc32.Checksum(idx[:indexEntrySize*n], castagnoli))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShardIndexOverlap: an index with a valid CRC that points chunk 1 at
// chunk 0's bytes (whose own CRC then passes) is refused when the shard
// opens; `mine roi` wrote chunk 0's voxels in chunk 1's place before.
func TestShardIndexOverlap(t *testing.T) {
	path, chunks := shardFixture(t)
	n := chunks[0] * chunks[1] * chunks[2]
	if s, err := openShard(path, chunks); err != nil {
		t.Fatal(err)
	} else {
		s.close()
	}
	rewriteIndex(t, path, n, func(e []uint64) { e[2], e[3] = e[0], e[1] })
	_, err := openShard(path, chunks)
	if err == nil || !errors.Is(err, ErrChecksum) {
		t.Fatalf("chunk 1 on chunk 0's bytes: %v, want an overlap error", err)
	}
}

// FuzzShardIndex: no index, however its entries are set (with a valid
// CRC), makes opening or reading a shard panic; a shard that opens has its
// stored chunks inside the data, in order, without overlap.
func FuzzShardIndex(f *testing.F) {
	path, chunks := shardFixture(f)
	n := chunks[0] * chunks[1] * chunks[2]
	orig, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(1), uint64(0), uint64(0))
	f.Add(uint8(2), uint64(0), uint64(absent))
	f.Add(uint8(3), uint64(1<<40), uint64(64))
	f.Add(uint8(17), uint64(absent), uint64(absent))
	f.Fuzz(func(t *testing.T, which uint8, off, nb uint64) {
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		i := int(which) % n
		rewriteIndex(t, path, n, func(e []uint64) { e[2*i], e[2*i+1] = off, nb })
		s, err := openShard(path, chunks)
		if err != nil {
			return
		}
		defer s.close()
		next := uint64(0)
		dst := make([]byte, 2*chunkVoxels)
		for k := range n {
			o, l := s.index[2*k], s.index[2*k+1]
			if o == absent {
				continue
			}
			if o < next || o+l > uint64(len(s.m)) {
				t.Fatalf("chunk %d at %d+%d opened: overlaps or lies outside", k, o, l)
			}
			next = o + l
			if body, err := s.raw(k); err == nil && body != nil {
				decodeChunk(dst, body)
			}
		}
	})
}

// FuzzCatalog: no catalog.jsonl makes opening a store panic, and one that
// opens lists named scans in order or says its catalog is unreadable
// (testdata/fuzz/FuzzCatalog holds the record the fuzzer found that
// Scans reported without saying so).
func FuzzCatalog(f *testing.F) {
	dir := writeTestStore(f, testScan("1.2.3", [3]int{8, 8, 8}, 1, false))
	if err := Compact(dir); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, catalogFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte(`{"format":"1.0","scans":[{"seriesuid":"b"},{"seriesuid":"a"}]}`))
	f.Add([]byte(`{"scans":[{"seriesuid":"1","grid":{"shape_zyx":[-1,1e9,3]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, catalogFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			var ce *CatalogError
			if !errors.As(err, &ce) {
				t.Fatalf("an unreadable catalog gave %T %v, want a CatalogError", err, err)
			}
			return
		}
		defer s.Close()
		// Opening reads the header; a record that does not decode shows
		// when the records are read, and is a CatalogError too.
		scans, err := s.Scans()
		if err != nil {
			var ce *CatalogError
			if !errors.As(err, &ce) {
				t.Fatalf("an unreadable record gave %T %v, want a CatalogError", err, err)
			}
			return
		}
		for i, sc := range scans {
			if sc.UID == "" || (i > 0 && scans[i-1].UID >= sc.UID) {
				t.Fatalf("scan %d (%q) unnamed or out of order", i, sc.UID)
			}
		}
	})
}
