package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenFindingsKeepsRecent: Findings from OpenFindings answer a series
// they read a moment ago without reading the table again, and only the
// last few. The table is cut short under them: the series read last
// still answer, one read longer ago no longer does.
func TestOpenFindingsKeepsRecent(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, WriteOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	uid := func(i int) string { return fmt.Sprintf("s%02d", i) }
	series := map[string]*SeriesFindings{}
	for i := range 12 {
		series[uid(i)] = &SeriesFindings{Annotations: []Finding{{X: float64(i), Diameter: 4, Class: -1}}}
	}
	if err := w.SetFindings(&Findings{Series: series, Sources: map[string]string{"annotations": "test"}}, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.OpenFindings(false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if sf := f.Of(uid(i)); sf == nil || sf.Annotations[0].X != float64(i) {
			t.Fatalf("%s: %+v", uid(i), sf)
		}
	}
	if err := os.Truncate(filepath.Join(dir, "findings.jsonl"), 0); err != nil {
		t.Fatal(err)
	}
	for i := 12 - len(f.recent); i < 12; i++ {
		if sf := f.Of(uid(i)); sf == nil || sf.Annotations[0].X != float64(i) {
			t.Errorf("%s, read a moment ago: %+v", uid(i), sf)
		}
	}
	if sf := f.Of(uid(0)); sf != nil {
		t.Errorf("%s, read longer ago, answered from memory: %+v", uid(0), sf)
	}
}

// FuzzFindingsTable: no findings.jsonl makes reading findings panic, and
// every error names the file.
func FuzzFindingsTable(f *testing.F) {
	dir := f.TempDir()
	w, err := NewWriter(dir, WriteOptions{Workers: 1})
	if err != nil {
		f.Fatal(err)
	}
	series := map[string]*SeriesFindings{
		"1.2.3": {Annotations: []Finding{{X: 1, Y: 2, Z: 3, Diameter: 4, Class: -1}}, PatientID: "p"},
		"1.2.4": {Excluded: []Finding{{X: -1, Diameter: 2, Class: -1}}},
	}
	if err := w.SetFindings(&Findings{Series: series, Sources: map[string]string{"annotations": "a.csv"}}, func(string) bool { return true }); err != nil {
		f.Fatal(err)
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, findingsFile)
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)*2/3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err) // the catalog is untouched
		}
		defer s.Close()
		named := func(what string, err error) {
			if err != nil && !strings.Contains(err.Error(), findingsFile) {
				t.Fatalf("%s: an error that does not name %s: %v", what, findingsFile, err)
			}
		}
		_, err = s.FindingsWithCandidates()
		named("the whole table", err)
		_, err = s.FindingsOf([]string{"1.2.3", "9"}, true)
		named("two series", err)
		if lazy, err := s.OpenFindings(true); err != nil {
			named("opening", err)
		} else {
			lazy.Of("1.2.3")
			lazy.Of("1.2.4")
			lazy.Of("0")
			named("one series", lazy.Err())
		}
	})
}
