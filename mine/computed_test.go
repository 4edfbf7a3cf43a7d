package mine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/mine"
	"voxmine/store"
)

// TestLungAutoOnComputedMasks ingests full-size scans without their mask
// files, so ingest segments the lungs itself, then mines with --lung auto:
// every centre must lie in the generator's true lungs.
func TestLungAutoOnComputedMasks(t *testing.T) {
	testenv.SkipUnderRace(t)
	if testing.Short() {
		t.Skip("full-size scans")
	}
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	truth, err := synth.Generate(context.Background(), src, synth.Options{N: 2, Seed: 21, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	// No masks at all: take LUNA16's mask folder out of the source.
	truthDir := filepath.Join(dir, "truth-masks")
	if err := os.Rename(filepath.Join(src, "seg-lungs-LUNA16"), truthDir); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st,
		Annotations: filepath.Join(src, "annotations.csv"), Workers: 1, PadHU: -1000, Lung: ingest.LungSourceAuto}); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range s.Scans() {
		if !sc.HasLabels || sc.LabelSource != "computed" {
			t.Fatalf("%s: labels %v from %q; want computed", sc.UID, sc.HasLabels, sc.LabelSource)
		}
	}
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.Workers = 32, 2
	p := mine.DefaultNegatives()
	p.PerScan = 40
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	gt := map[string][]uint8{}
	shapes := map[string][3]int{}
	for _, sc := range truth.Scans {
		h, m, err := metaimage.ReadLabels(filepath.Join(truthDir, filepath.Base(sc.MaskPath)))
		if err != nil {
			t.Fatal(err)
		}
		g := ingest.Grid1mm(h.Geometry())
		gt[sc.UID], _ = ingest.ResampleNearest(context.Background(), m, h.Geometry(), g, 2)
		shapes[sc.UID] = g.Shape
	}
	rows := readIndex(t, res.Index)
	if len(rows) != 80 {
		t.Fatalf("%d negatives, want 80", len(rows))
	}
	for _, r := range rows {
		c, sh := centre(t, r), shapes[r["seriesuid"]]
		if l := gt[r["seriesuid"]][(c[0]*sh[1]+c[1])*sh[2]+c[2]]; !store.IsLung(l) {
			t.Errorf("%s: centre %v is label %d in the true mask", r["patch_file"], c, l)
		}
	}
}

// TestPositivesDeterministic: jittered positives are the same bytes with 1
// or 3 workers.
func TestPositivesDeterministic(t *testing.T) {
	_, s := setup(t)
	out := func(workers int) string {
		o := mine.DefaultOutput(t.TempDir())
		o.Size, o.Workers, o.Pack = 16, workers, true
		if _, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{Copies: 3, Jitter: 4, Seed: 8}); err != nil {
			t.Fatal(err)
		}
		return o.Dir
	}
	a, b := out(1), out(3)
	for _, f := range []string{"pos_index.csv", "patches.npy"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 and 3 workers", f)
		}
	}
}
