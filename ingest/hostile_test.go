package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/metaimage"
	"voxmine/store"
	"voxmine/store/grid"
)

// TestHostileGeometryFailsAlone: files whose headers ask for grids no
// machine holds sit beside a valid scan. The valid scan is stored, each bad
// one fails by name with the budget and the flag, before any voxel of it is
// allocated (a 6400³ grid of int16 would be 524 GB: the test would die of
// it).
func TestHostileGeometryFailsAlone(t *testing.T) {
	dir, _ := small(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	// One valid scan, linked in from the small set.
	mhds, _ := filepath.Glob(filepath.Join(dir, "subset0", "*.mhd"))
	good := ""
	for _, m := range mhds {
		h, _, err := metaimage.ReadCT(m)
		if err == nil && h != nil {
			good = m
			break
		}
	}
	if good == "" {
		t.Fatal("no valid scan in the small set")
	}
	h, hu, err := metaimage.ReadCT(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := metaimage.WriteImage(filepath.Join(src, "1.2.3.good.mhd"), h, hu, metaimage.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		spacing [3]float64
		shape   [3]int
	}{
		{"1.2.3.spacing100", [3]float64{100, 100, 100}, [3]int{64, 64, 64}},    // 1 mm grid 6400³
		{"1.2.3.manyslices", [3]float64{0.7, 0.7, 0.05}, [3]int{2000, 64, 64}}, // fine on disk, 1 mm grid small: passes
	}
	for _, c := range cases {
		g := grid.Geometry{Shape: c.shape, Spacing: c.spacing, Direction: grid.Identity}
		bad := &metaimage.Header{DimSize: [3]int{c.shape[2], c.shape[1], c.shape[0]}, Spacing: c.spacing, Direction: grid.Identity, ElementType: "MET_SHORT"}
		if err := metaimage.WriteImage(filepath.Join(src, c.name+".mhd"), bad, make([]int16, g.Voxels()), metaimage.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	o := ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(t.TempDir(), "store"), Workers: 2, PadHU: -1000,
		Lung: ingest.LungSourceNone, MaxVoxels: 64 << 20}
	rep, err := ingest.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	failed := rep.Failed()
	if len(failed) != 1 || !strings.Contains(failed[0].Path, "spacing100") {
		t.Fatalf("failed %+v, want the spacing-100 scan alone", failed)
	}
	var be *ingest.BudgetError
	msg := failed[0].Err.Error()
	if !errors.As(failed[0].Err, &be) || !strings.Contains(msg, "--max-voxels") || !strings.Contains(msg, "spacing100.mhd") {
		t.Errorf("error %q: want a BudgetError naming the file and --max-voxels", msg)
	}
	if strings.Count(msg, "spacing100.mhd") != 1 {
		t.Errorf("error %q names its file more than once", msg)
	}
	st, err := store.Open(o.StoreDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := len(st.Scans()); n != 2 {
		t.Errorf("%d scans stored, want the valid one and the many-slice one", n)
	}
}
