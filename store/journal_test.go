package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
)

// TestJournal: a stored scan appends its record to catalog.log; a record
// cut by a crash is passed over, the next append starts a line of its
// own; a journal past its bound is folded into catalog.jsonl.
func TestJournal(t *testing.T) {
	dir := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, false), testScan("b0", [3]int{8, 8, 8}, 1, false))
	journal := filepath.Join(dir, journalFile)
	b, err := os.ReadFile(journal)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("journal %q, %v", b, err)
	}
	// A crash mid-append: half a record, no newline.
	os.WriteFile(journal, append(b, b[:len(b)/2]...), 0o644)
	s, err := Open(dir)
	if err != nil || len(scansOf(t, s)) != 2 {
		t.Fatalf("open with a cut record: %v", err)
	}
	s.Close()
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
	if n, _, err := Rebuild(dir); err != nil || n != 3 {
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
	c, err := openCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if st == nil || st.Size() >= 256<<10 || len(c.journal) > 500 {
		t.Errorf("journal %v bytes, %d records: want it folded", st.Size(), len(c.journal))
	}
	uids, err := c.uids()
	if err != nil || len(uids) != 1203 || !slices.IsSorted(uids) {
		t.Errorf("%v, %d scans, want 1203 in order", err, len(uids))
	}
}

// TestSummaryFollowsTheRecords: the summary kept in the snapshot's header,
// with the journal's records applied (new scans, scans stored again with
// other labels, flags or patients), equals the summary of the records
// themselves, before and after a fold.
func TestSummaryFollowsTheRecords(t *testing.T) {
	dir := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, true))
	base, _ := readScanGroup(dir, "a")
	put := func(uid, patient string, labels bool, flags ...string) {
		info := base
		info.UID, info.Source.PatientID, info.HasLabels, info.Flags = uid, patient, labels, flags
		info.LabelSource = ""
		if labels {
			info.LabelSource = LabelsComputed
		}
		if err := appendCatalog(dir, info); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		c, err := openCatalog(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		got, err := c.summary()
		if err != nil {
			t.Fatal(err)
		}
		scans, err := c.scans()
		if err != nil {
			t.Fatal(err)
		}
		var want Summary
		for _, s := range scans {
			want.add(s, 1)
		}
		if !reflect.DeepEqual(got.clone(), want.clone()) && !(summaryEqual(got, want)) {
			t.Errorf("%s: summary %+v, from the records %+v", when, got, want)
		}
	}
	put("p1", "pat1", true, "lung too small")
	put("p2", "pat1", false)
	put("p3", "", true)
	check("journal only")
	if err := Compact(dir); err != nil {
		t.Fatal(err)
	}
	check("after a fold")
	put("p1", "pat2", false)       // stored again: another patient, no flag, no labels
	put("p2", "pat1", true, "odd") // and again
	put("p2", "pat3", true)
	check("records replaced in the journal")
	// A crash after the fold wrote the snapshot but before it removed the
	// journal: the records replay onto a snapshot that holds them.
	j, _ := os.ReadFile(filepath.Join(dir, journalFile))
	if err := Compact(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, journalFile), j, 0o644)
	check("a journal replayed onto its own fold")
}

func summaryEqual(a, b Summary) bool {
	norm := func(s Summary) string {
		if len(s.Flagged) == 0 {
			s.Flagged = nil
		}
		if len(s.Patients) == 0 {
			s.Patients = nil
		}
		j, _ := json.Marshal(s)
		return string(j)
	}
	return norm(a) == norm(b)
}

// TestReadsFormatOneAndMigrates: a store written in format 1 (catalog,
// findings and candidates as JSON documents, records without their size)
// opens as it is; the first writer rewrites it as tables, measures every
// scan, sets format 2.0, and the store reads the same.
func TestReadsFormatOneAndMigrates(t *testing.T) {
	dir := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, true), testScan("b", [3]int{8, 8, 8}, 2, false))
	w, _ := NewWriter(dir, WriteOptions{})
	if err := w.SetFindings(&Findings{Series: map[string]*SeriesFindings{
		"a": {Annotations: []Finding{{X: 1, Y: 2, Z: 3, Diameter: 4, Class: -1}}, Candidates: []Finding{{X: 5, Y: 6, Z: 7, Diameter: -1, Class: 0}}}},
		Sources: map[string]string{"annotations": "a.csv", "candidates": "c.csv"}}, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s, _ := Open(dir)
	want := scansOf(t, s)
	wantF, err := s.FindingsWithCandidates()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Make it format 1, as voxmine wrote it before.
	var legacy []ScanInfo
	for _, sc := range want {
		sc.StoredBytes = 0
		legacy = append(legacy, sc)
	}
	writeJSON(filepath.Join(dir, legacyCatalogFile), map[string]any{"format": "1.0", "scans": legacy})
	writeJSON(filepath.Join(dir, legacyFindingsFile), map[string]any{"format": "1.0", "sources": wantF.Sources,
		"series": map[string]any{"a": map[string]any{"annotations": [][5]float64{{1, 2, 3, 4, -1}}}}})
	writeJSON(filepath.Join(dir, legacyCandidatesFile), map[string]any{"format": "1.0", "series": map[string]any{"a": [][5]float64{{5, 6, 7, -1, 0}}}})
	for _, f := range []string{catalogFile, journalFile, findingsFile, candidatesFile} {
		os.Remove(filepath.Join(dir, f))
	}
	root, _ := os.ReadFile(filepath.Join(dir, "zarr.json"))
	os.WriteFile(filepath.Join(dir, "zarr.json"), []byte(string(slices.Concat([]byte(nil), root))), 0o644)
	if err := setFormat(dir, "1.0"); err != nil {
		t.Fatal(err)
	}

	same := func(when string) {
		t.Helper()
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer s.Close()
		got := scansOf(t, s)
		for i := range got {
			got[i].StoredBytes = want[i].StoredBytes // format 1 did not keep it
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the scans read differently", when)
		}
		f, err := s.FindingsWithCandidates()
		if err != nil || len(f.Of("a").Annotations) != 1 || len(f.Of("a").Candidates) != 1 || f.Counts.Annotations != 1 || f.Counts.Candidates != 1 {
			t.Errorf("%s: findings %+v, %v", when, f, err)
		}
		sub, err := s.FindingsOf([]string{"a", "b"}, true)
		if err != nil || len(sub.Series) != 1 || len(sub.Of("a").Candidates) != 1 {
			t.Errorf("%s: findings of a and b: %+v, %v", when, sub, err)
		}
		if sum, err := s.Summary(); err != nil || sum.Scans != 2 || sum.WithLabels != 1 {
			t.Errorf("%s: summary %+v, %v", when, sum, err)
		}
		if u, err := s.DiskUsage(); err != nil || u.StoredBytes <= 0 {
			t.Errorf("%s: disk usage %+v, %v", when, u, err)
		}
	}
	same("format 1")
	w, err = NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, f := range []string{legacyCatalogFile, legacyFindingsFile, legacyCandidatesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s outlived the migration", f)
		}
	}
	if r, _ := readRoot(dir); r.Format != FormatVersion {
		t.Errorf("format %s after the migration", r.Format)
	}
	same("migrated")
	s, _ = Open(dir)
	defer s.Close()
	for _, sc := range scansOf(t, s) {
		if sc.StoredBytes <= 0 {
			t.Errorf("%s: no stored size after the migration", sc.UID)
		}
	}
}

// setFormat writes format_version v into the root, as an old voxmine did.
func setFormat(dir, v string) error {
	path := filepath.Join(dir, "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var g map[string]any
	json.Unmarshal(b, &g)
	g["attributes"].(map[string]any)["voxmine"].(map[string]any)["format_version"] = v
	return writeJSON(path, g)
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

// BenchmarkCatalogFoldOf is a fold of the journal into a snapshot of N
// scans, the cost ingest pays every 1/64 of the snapshot's size.
func BenchmarkCatalogFoldOf(b *testing.B) {
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

// BenchmarkLookupIn finds one record in catalogs of N scans.
func BenchmarkLookupIn(b *testing.B) {
	for _, n := range []int{1000, 200000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			info := testScan("seed", [3]int{16, 16, 16}, 1, false).Info
			writeLargeCatalog(b, dir, info, n)
			c, err := openCatalog(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			i := 0
			for b.Loop() {
				uid := fmt.Sprintf("1.2.840.%09d", (i*7919)%n)
				i++
				if _, ok, err := c.lookup(uid); !ok || err != nil {
					b.Fatal(uid, err)
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
	Init(dir)
	scans := make([]ScanInfo, n)
	for i := range n {
		scans[i] = info
		scans[i].UID = fmt.Sprintf("1.2.840.%09d", i)
	}
	if err := writeScans(dir, scans); err != nil {
		b.Fatal(err)
	}
	scans = nil
	runtime.GC()
}

// TestReadersNeverMissARecord: a reader that opens the catalog while a
// writer folds the journal into a new snapshot sees every record
// acknowledged before it began. openCatalog reads the journal first and
// the snapshot second, and a fold writes the snapshot before it removes
// the journal; the fold is put between the reader's two steps here. The
// other order loses the folded records, which the test shows too, so
// that it can fail.
func TestReadersNeverMissARecord(t *testing.T) {
	for _, tc := range []struct {
		name          string
		journalFirst  bool
		wantAllBefore bool
	}{
		{"journal, then snapshot (openCatalog)", true, true},
		{"snapshot, then journal", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, false))
			if err := Compact(dir); err != nil {
				t.Fatal(err)
			}
			base, _ := readScanGroup(dir, "a")
			put := func(from, to int) {
				for i := from; i < to; i++ {
					info := base
					info.UID = fmt.Sprintf("r%04d", i)
					if err := appendCatalog(dir, info); err != nil {
						t.Fatal(err)
					}
				}
			}
			put(0, 10)       // acknowledged before the reader begins: in the journal
			fold := func() { // meanwhile a writer folds the journal and goes on
				if err := Compact(dir); err != nil {
					t.Fatal(err)
				}
				put(10, 15)
			}
			var c *catalog
			var err error
			if tc.journalFirst {
				c, err = openCatalogAround(dir, fold)
			} else {
				c = &catalog{latest: map[string]int{}}
				err = c.openSnapshot(dir)
				fold()
				if err == nil {
					err = c.readJournal(filepath.Join(dir, journalFile))
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			uids, err := c.uids()
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, u := range uids {
				if u >= "r0000" && u < "r0010" {
					seen++
				}
			}
			if got := seen == 10; got != tc.wantAllBefore {
				t.Errorf("the reader saw %d of the 10 records acknowledged before it began", seen)
			}
		})
	}
}

// FuzzJournal: no catalog.log makes opening or reading a store panic,
// and every error it causes is a CatalogError (which names the file and
// says how to rebuild it).
func FuzzJournal(f *testing.F) {
	dir := writeTestStore(f, testScan("1.2.3", [3]int{8, 8, 8}, 1, false))
	if err := Compact(dir); err != nil {
		f.Fatal(err)
	}
	rec, err := json.Marshal(journalRecord{Put: &ScanInfo{UID: "1.2.4"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(rec, '\n'))
	f.Add(append(append(rec, '\n'), rec[:len(rec)/2]...))
	f.Add([]byte("{\"put\":{\"seriesuid\":\"1.2.3\",\"hu_max\":\"x\"}}\n"))
	f.Add([]byte("{\"put\":{\"k\":\"1.2.5\"}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, journalFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		catalogErr := func(what string, err error) {
			var ce *CatalogError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("%s: %T %v, want a CatalogError", what, err, err)
			}
		}
		s, err := Open(dir)
		if err != nil {
			catalogErr("open", err)
			return
		}
		defer s.Close()
		_, err = s.Scans()
		catalogErr("scans", err)
		_, err = s.Summary()
		catalogErr("summary", err)
		_, _, err = s.Lookup("1.2.3")
		catalogErr("lookup", err)
		_, err = s.UIDs()
		catalogErr("uids", err)
	})
}
