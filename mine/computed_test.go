package mine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/nifti"
	"voxmine/ingest/resample"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/mine"
	"voxmine/store"
	"voxmine/store/storetest"
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
	for _, sc := range storetest.Scans(t, s) {
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
		g := resample.Grid1mm(h.Geometry())
		gt[sc.UID], _ = resample.Nearest(context.Background(), m, h.Geometry(), g, 2)
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

// TestLungAutoSkipsFlaggedComputedMasks: a scan whose only inside air is a
// gas bubble (no lungs) gets an empty computed mask and a flag; --lung auto
// then draws nothing from it and says why, and --lung hu still can.
func TestLungAutoSkipsFlaggedComputedMasks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	h := &nifti.Header{Version: 1, Dim: [3]int{120, 100, 90}, Datatype: 4, Pixdim: [4]float64{1, 1, 1, 1}, QformCode: 1}
	ct := make([]int16, h.Voxels())
	for i := range ct {
		x, y, z := i%120, i/120%100, i/12000
		ct[i] = -1000 // air around the body
		if dx, dy := float64(x-60)/50, float64(y-50)/40; dx*dx+dy*dy < 1 {
			ct[i] = 40 // the body
			if dx, dy, dz := float64(x-50)/12, float64(y-45)/10, float64(z-45)/15; dx*dx+dy*dy+dz*dz < 1 {
				ct[i] = -1000 // bowel gas
			}
		}
	}
	if err := nifti.WriteFile(filepath.Join(src, "nolungs.nii.gz"), h, ct); err != nil {
		t.Fatal(err)
	}
	storeDir := filepath.Join(dir, "store")
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: storeDir, Workers: 1, PadHU: -1000}); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	info := storetest.Scans(t, s)[0]
	if info.LabelSource != "computed" || info.LungVoxels != 0 || len(info.Flags) == 0 {
		t.Fatalf("labels %q, %d lung voxels, flags %v: want an empty computed mask, flagged", info.LabelSource, info.LungVoxels, info.Flags)
	}
	o := mine.DefaultOutput(filepath.Join(dir, "auto"))
	o.Size = 16
	res, err := mine.Negatives(context.Background(), s, o, mine.DefaultNegatives())
	if err != nil {
		t.Fatal(err)
	}
	if res.Patches != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "flagged") {
		t.Fatalf("%d patches, skipped %v: want the scan skipped because its computed mask is flagged", res.Patches, res.Skipped)
	}
	run, _ := os.ReadFile(res.RunJSON)
	if !strings.Contains(string(run), "flagged") {
		t.Error("run.json does not say why the scan was skipped")
	}
}
