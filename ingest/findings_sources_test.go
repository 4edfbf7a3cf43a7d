package ingest_test

import (
	"context"
	"path/filepath"
	"testing"

	"voxmine/ingest"
	"voxmine/internal/testenv"
	"voxmine/store"
)

// TestNewReadsKeepOtherFindings: a store ingested from MetaImage with an
// annotations CSV takes in a LIDC DICOM folder with its XML and no CSV.
// The reads give the new series its nodule and leave the CSV's nodules of
// the other series where they were (they were all replaced before, and
// negatives stopped avoiding them); each series says where its findings
// came from, and both sources stay listed.
func TestNewReadsKeepOtherFindings(t *testing.T) {
	testenv.SkipUnderRace(t)
	lidcDir := testenv.Shared(t, "realct/lidc-idri-0001")
	src, tr := small(t)
	st := filepath.Join(t.TempDir(), "store")
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st, Workers: 2, PadHU: -1000,
		Lung: ingest.LungSourceNone, Annotations: filepath.Join(src, "annotations.csv")}); err != nil {
		t.Fatal(err)
	}
	count := func() (int, map[string]string, *store.Findings) {
		s, err := store.Open(st)
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.Findings()
		if err != nil {
			t.Fatal(err)
		}
		n, from := 0, map[string]string{}
		for uid, sf := range f.Series {
			n += len(sf.Annotations)
			from[uid] = sf.From
		}
		return n, from, f
	}
	before, _, _ := count()
	if before == 0 {
		t.Fatalf("no annotations from the CSV of %d scans", len(tr.Scans))
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{lidcDir}, StoreDir: st, Workers: 1, PadHU: -1000,
		Lung: ingest.LungSourceNone}); err != nil {
		t.Fatal(err)
	}
	after, from, f := count()
	if after != before+1 {
		t.Errorf("%d annotations after the LIDC folder, want the CSV's %d and the reads' 1", after, before)
	}
	const lidcUID = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192"
	for uid, src := range from {
		want := "annotations"
		if uid == lidcUID {
			want = "lidc_reads"
		}
		if len(f.Series[uid].Annotations) > 0 && src != want {
			t.Errorf("series %s: findings from %q, want %q", uid, src, want)
		}
	}
	if f.Sources["annotations"] == "" || f.Sources["lidc_reads"] == "" {
		t.Errorf("sources %v: want both the CSV and the reads", f.Sources)
	}
}
