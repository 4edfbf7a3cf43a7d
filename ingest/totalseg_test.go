package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/internal/itkgolden"
	"voxmine/internal/testenv"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestTotalSegmentatorMasks: TotalSegmentator's output for the real
// abdominal CT (a folder of lobe files named by the scan) serves as its
// lung mask: right lobes 3, left lobes 4, the lobes' volume kept. Ingested
// from the folder TotalSegmentator left them in, beside the CT, the lobe
// files are not taken for scans.
func TestTotalSegmentatorMasks(t *testing.T) {
	testenv.SkipUnderRace(t) // reading and resampling a real scan
	real := itkgolden.RealCT(t, "abdomen-lung-bases")
	dir := t.TempDir()
	src, masks := filepath.Join(dir, "src"), filepath.Join(dir, "ts", "case7")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(masks, 0o755)
	lobes, _ := filepath.Glob(filepath.Join(real, "lung_*.nii.gz"))
	if len(lobes) != 5 {
		t.Fatalf("%d lobe files in %s", len(lobes), real)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(real, "ct.nii.gz"), filepath.Join(src, "case7.nii.gz"))
	for _, l := range lobes {
		copyFile(l, filepath.Join(masks, filepath.Base(l)))
	}
	st := filepath.Join(dir, "store")
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st,
		MaskDir: filepath.Join(dir, "ts"), Workers: 1, PadHU: -1000})
	if err != nil || rep.MasksFound != 1 || len(rep.Failed()) > 0 {
		t.Fatalf("masks found %d, failed %v, %v", rep.MasksFound, rep.Failed(), err)
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, _ := storetest.Lookup(t, s, "case7")
	if info.LabelSource != "file" || !strings.HasSuffix(info.Source.MaskPath, ".nii.gz") {
		t.Fatalf("labels from %q (%s)", info.LabelSource, info.Source.MaskPath)
	}
	v, err := s.OpenVolume("case7")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	sh := v.Shape()
	lab := make([]uint8, sh[0]*sh[1]*sh[2])
	if err := v.ReadLabels(store.Box{D: sh[0], H: sh[1], W: sh[2]}, 0, lab); err != nil {
		t.Fatal(err)
	}
	var n3, n4 int
	var x3, x4 float64
	for i, l := range lab {
		x := float64(i % sh[2])
		switch l {
		case store.LabelLungA:
			n3++
			x3 += x
		case store.LabelLungB:
			n4++
			x4 += x
		}
	}
	litres := float64(n3+n4) / 1e6
	t.Logf("lung %.3f L from TotalSegmentator's lobes: right %d, left %d voxels", litres, n3, n4)
	// TotalSegmentator's lobes hold 0.11 L of lung at the top of this scan.
	if litres < 0.08 || litres > 0.14 || n3 == 0 || n4 == 0 {
		t.Fatalf("%.3f L of lung (right %d, left %d voxels)", litres, n3, n4)
	}
	// Right (3) is the smaller LPS x, wherever the grid's x axis points.
	if right, left := x3/float64(n3), x4/float64(n4); (right < left) != (info.Grid.Direction[0] > 0) {
		t.Errorf("mean x of label 3 %.0f, of label 4 %.0f, grid x direction %v", right, left, info.Grid.Direction[0])
	}

	// The folder as TotalSegmentator leaves it: the CT and its lobes.
	rep, err = ingest.Run(context.Background(), ingest.Options{Sources: []string{real}, StoreDir: filepath.Join(dir, "store2"),
		Workers: 1, PadHU: -1000, Lung: ingest.LungSourceNone})
	if err != nil || rep.Mapped != 1 {
		t.Fatalf("found %d scans in %s (%v), want the CT alone", rep.Mapped, real, err)
	}
	skipped := 0
	for _, sk := range rep.Skipped {
		if strings.Contains(sk.Reason, "TotalSegmentator") {
			skipped++
		}
	}
	if skipped != 5 {
		t.Errorf("%d lobe files skipped as TotalSegmentator masks, want 5: %v", skipped, rep.Skipped)
	}
}
