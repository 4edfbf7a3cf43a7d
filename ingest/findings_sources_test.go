package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestFindingsThatCannotBeRight: a nodule whose world point lies outside
// its scan (voxel coordinates written into the CSV) is reported by file
// and row, and a candidates table given as annotations is refused (its
// class-0 rows became 10 mm "nodules").
func TestFindingsThatCannotBeRight(t *testing.T) {
	orig, tr := small(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(orig)); err != nil {
		t.Fatal(err)
	}
	var uid string
	for _, s := range tr.Scans {
		if s.Variant == "" {
			uid = s.UID
			break
		}
	}
	ann := filepath.Join(src, "annotations.csv")
	b, _ := os.ReadFile(ann)
	lines := strings.Count(string(b), "\n")
	os.WriteFile(ann, append(b, []byte(uid+",120,200,60,8\n")...), 0o644) // voxel indices, not mm
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(t.TempDir(), "st"), Workers: 2,
		PadHU: -1000, Lung: ingest.LungSourceNone, Annotations: ann})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("annotations.csv:%d:", lines+1)
	if len(rep.Outside) != 1 || !strings.Contains(rep.Outside[0], want) || !strings.Contains(rep.Outside[0], uid) {
		t.Errorf("outside: %q, want one line naming %s and the series", rep.Outside, want)
	}
	_, err = ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(t.TempDir(), "st2"), Workers: 2,
		PadHU: -1000, Lung: ingest.LungSourceNone, Annotations: filepath.Join(src, "candidates.csv")})
	if err == nil || !strings.Contains(err.Error(), "looks like a candidates table") {
		t.Errorf("candidates as annotations: %v", err)
	}
}
