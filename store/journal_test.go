package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestJournal: a stored scan appends its record to catalog.log; a record
// cut by a crash is passed over, the next append starts a line of its
// own; a journal past its bound is folded into catalog.json.
func TestJournal(t *testing.T) {
	dir := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, false))
	journal := filepath.Join(dir, journalFile)
	b, err := os.ReadFile(journal)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("journal %q, %v", b, err)
	}
	// A crash mid-append: half a record, no newline.
	os.WriteFile(journal, append(b, b[:len(b)/2]...), 0o644)
	s, err := Open(dir)
	if err != nil || len(s.Scans()) != 1 {
		t.Fatalf("open with a cut record: %v", err)
	}
	w, err := NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Put(context.Background(), testScan("b", [3]int{8, 8, 8}, 2, false)); err != nil {
		t.Fatal(err)
	}
	// The cut record stays on its own line, now a damaged one: reported,
	// and --repair (Rebuild) makes the catalog anew.
	if _, err := Open(dir); err == nil {
		t.Error("a cut record followed by a whole one opened without a word")
	}
	if n, _, err := Rebuild(dir); err != nil || n != 2 {
		t.Fatalf("rebuild: %d scans, %v", n, err)
	}
	// Past its bound the journal is folded into the snapshot.
	info, _ := readScanGroup(dir, "a")
	for i := range 1200 {
		info.UID = fmt.Sprintf("x%04d", i)
		if err := appendCatalog(dir, info); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := os.Stat(journal)
	snap, _ := readSnapshot(dir)
	if st == nil || st.Size() >= 256<<10 || len(snap.Scans) < 500 {
		t.Errorf("journal %v bytes, snapshot %d scans: want it folded", st.Size(), len(snap.Scans))
	}
	c, err := readCatalog(dir)
	if err != nil || len(c.Scans) != 1202 {
		t.Errorf("%v, %d scans, want 1202", err, len(c.Scans))
	}
}

// BenchmarkPutIntoStoreOf stores a small scan into stores whose catalogs
// already list N scans: the cost per scan must not grow with N (it was
// O(N): the whole catalog rewritten for every scan).
func BenchmarkPutIntoStoreOf(b *testing.B) {
	for _, n := range []int{1000, 20000, 200000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			w, err := NewWriter(dir, WriteOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			info, err := w.Put(context.Background(), testScan("seed", [3]int{16, 16, 16}, 1, false))
			if err != nil {
				b.Fatal(err)
			}
			writeLargeCatalog(b, dir, info, n)
			os.Remove(filepath.Join(dir, journalFile))
			sc := testScan("new", [3]int{16, 16, 16}, 2, false)
			i := 0
			for b.Loop() {
				sc.Info.UID = fmt.Sprintf("9.%d", i)
				i++
				if _, err := w.Put(context.Background(), sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCatalogRewriteOf is what storing a scan cost before the
// journal: reading and rewriting the whole catalog of N scans.
func BenchmarkCatalogRewriteOf(b *testing.B) {
	for _, n := range []int{1000, 20000, 200000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			info := testScan("seed", [3]int{16, 16, 16}, 1, false).Info
			writeLargeCatalog(b, dir, info, n)
			for b.Loop() {
				if err := Compact(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// writeLargeCatalog writes a catalog snapshot of n copies of info under
// other uids, as a store of n scans has, and lets its memory go: the
// benchmark's own copy is not the cost measured.
func writeLargeCatalog(b *testing.B, dir string, info ScanInfo, n int) {
	b.Helper()
	c := &Catalog{Format: FormatVersion}
	for i := range n {
		e := info
		e.UID = fmt.Sprintf("1.2.840.%09d", i)
		c.Scans = append(c.Scans, e)
	}
	if err := writeJSON(filepath.Join(dir, catalogFile), c); err != nil {
		b.Fatal(err)
	}
	c = nil
	runtime.GC()
}
