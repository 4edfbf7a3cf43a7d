package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/metaimage"
	"voxmine/internal/testenv"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestLUNA25Layout: a dataset laid out as LUNA25 ships it, one .mha per
// series (header and zlib data in one file) named by its
// SeriesInstanceUID, and a table with PatientID, SeriesInstanceUID,
// CoordX… and a malignancy label but no diameter, ingests as it is: every
// nodule is found in its scan, with its label and its patient.
func TestLUNA25Layout(t *testing.T) {
	testenv.SkipUnderRace(t) // formats and tables, no concurrency of its own
	src, tr := small(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "luna25_images"), 0o755); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("PatientID,SeriesInstanceUID,StudyDate,CoordX,CoordY,CoordZ,LesionID,AnnotationID,NoduleID,label,Age_at_StudyDate,Gender\n")
	nodules := 0
	for i, s := range tr.Scans {
		if s.Variant != "" || len(s.Nodules) == 0 {
			continue
		}
		h, hu, err := metaimage.ReadCT(filepath.Join(src, s.Path))
		if err != nil {
			t.Fatal(err)
		}
		if err := metaimage.WriteImage(filepath.Join(dir, "luna25_images", s.UID+".mha"), h, hu, metaimage.WriteOptions{Local: true, Compress: true}); err != nil {
			t.Fatal(err)
		}
		for k, n := range s.Nodules {
			fmt.Fprintf(&table, "P%d,%s,20010102,%g,%g,%g,%d,a%d_%d,%d,%d,61,Male\n", i/2, s.UID, n.World[0], n.World[1], n.World[2], k+1, i, k, k+1, k%2)
			nodules++
		}
	}
	if nodules == 0 {
		t.Fatal("no nodules in the small set")
	}
	csvPath := filepath.Join(dir, "LUNA25_Public_Training_Development_Data.csv")
	os.WriteFile(csvPath, []byte(table.String()), 0o644)
	st := filepath.Join(dir, "store")
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{filepath.Join(dir, "luna25_images")}, StoreDir: st,
		Annotations: csvPath, Workers: 2, PadHU: -1000, Lung: ingest.LungSourceNone})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed()) > 0 || rep.Unmatched["annotations"] != 0 || len(rep.CSVNotes) != 1 {
		t.Fatalf("failed %v, unmatched %v, notes %v", rep.Failed(), rep.Unmatched, rep.CSVNotes)
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, sc := range storetest.Scans(t, s) {
		sf := f.Series[sc.UID]
		if sf == nil || !strings.HasPrefix(sf.PatientID, "P") {
			t.Errorf("%s: findings %+v without the table's patient", sc.UID, sf)
			continue
		}
		for k, a := range sf.Annotations {
			if a.Diameter != -1 || a.Class != k%2 {
				t.Errorf("%s nodule %d: diameter %v, label %d", sc.UID, k, a.Diameter, a.Class)
			}
			got++
		}
	}
	if got != nodules {
		t.Errorf("%d nodules stored, the table has %d", got, nodules)
	}
}
