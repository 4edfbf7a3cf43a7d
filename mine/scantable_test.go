package mine_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"testing"

	"voxmine/mine"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestOnePerStudy: within a study the lung kernel wins, then the thinnest
// slices (thickness, else spacing), then the lowest uid; a series without
// a study uid stands alone.
func TestOnePerStudy(t *testing.T) {
	scan := func(uid, study, kernel string, thickness, spacing float64) store.ScanInfo {
		var s store.ScanInfo
		s.UID = uid
		s.Source.StudyUID, s.Source.Kernel, s.Source.SliceThickness = study, kernel, thickness
		s.Source.Geometry.Spacing = [3]float64{0.7, 0.7, spacing}
		return s
	}
	for _, tc := range []struct {
		name  string
		scans []store.ScanInfo
		want  []string
	}{
		{"the lung kernel over a thinner soft one", []store.ScanInfo{
			scan("1", "A", "STANDARD", 1.0, 1.0), scan("2", "A", "LUNG", 2.5, 2.5)}, []string{"2"}},
		{"Siemens sharp over smooth", []store.ScanInfo{
			scan("1", "A", "B30f", 1.0, 1.0), scan("2", "A", "B50f", 1.0, 1.0)}, []string{"2"}},
		{"Canon lung kernel", []store.ScanInfo{
			scan("1", "A", "FC10", 1.0, 1.0), scan("2", "A", "FC52", 2.0, 2.0)}, []string{"2"}},
		{"the thinnest among lung kernels", []store.ScanInfo{
			scan("1", "A", "LUNG", 2.5, 2.5), scan("2", "A", "BONE", 1.25, 1.25)}, []string{"2"}},
		{"spacing when the thickness is unknown", []store.ScanInfo{
			scan("1", "A", "", 0, 2.0), scan("2", "A", "", 0, 1.0)}, []string{"2"}},
		{"the lowest uid on a tie", []store.ScanInfo{
			scan("9", "A", "LUNG", 1, 1), scan("3", "A", "LUNG", 1, 1)}, []string{"3"}},
		{"one per study, series without a study alone", []store.ScanInfo{
			scan("1", "A", "LUNG", 1, 1), scan("2", "B", "LUNG", 1, 1), scan("3", "", "", 1, 1), scan("4", "", "", 1, 1), scan("5", "B", "STANDARD", 1, 1)},
			[]string{"1", "2", "3", "4"}},
	} {
		got, left := mine.OnePerStudy(tc.scans, nil)
		if !slices.Equal(got, tc.want) || left != len(tc.scans)-len(tc.want) {
			t.Errorf("%s: %v (%d left out), want %v", tc.name, got, left, tc.want)
		}
	}
}

// scanTable is the store's scan table as WriteScanTable writes it, read
// back by a CSV reader (the header, then a row per scan), and the
// findings it counted.
func scanTable(t *testing.T, s *store.Store) ([][]string, *store.Findings) {
	t.Helper()
	f, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mine.WriteScanTable(&buf, s, f); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows, f
}

// TestScanTable: a row per scan with the catalog's grids and litres and
// the findings' counts, in a CSV that a CSV reader takes as it is.
func TestScanTable(t *testing.T) {
	_, s := setup(t)
	rows, f := scanTable(t, s)
	scans := storetest.Scans(t, s)
	if len(rows) != len(scans)+1 || !slices.Equal(rows[0], mine.ScanTableColumns) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	nodules := 0
	for i, sc := range scans {
		r := rows[i+1]
		n, _ := strconv.Atoi(r[col["annotations"]])
		nodules += n
		if sf := f.Of(sc.UID); r[col["seriesuid"]] != sc.UID || (sf != nil && n != len(sf.Annotations)) ||
			r[col["grid_z"]] != strconv.Itoa(sc.Grid.Shape[0]) || r[col["source"]] != sc.Source.Path {
			t.Errorf("row %d: %v for %s", i, r, sc.UID)
		}
	}
	if nodules == 0 {
		t.Error("the table counts no nodule in a store that has some")
	}
}
