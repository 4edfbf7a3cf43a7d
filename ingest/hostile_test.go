package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/dicom/dicomtest"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/nifti"
	"voxmine/internal/cli"
	"voxmine/store"
	"voxmine/store/grid"
	"voxmine/store/storetest"
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
	hostileDICOM(t, filepath.Join(src, "hostile-dicom"))
	hostileNIfTI(t, filepath.Join(src, "1.2.3.huge.nii.gz"))
	o := ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(t.TempDir(), "store"), Workers: 2, PadHU: -1000,
		Lung: ingest.LungSourceNone, MaxVoxels: 64 << 20}
	rep, err := ingest.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	failed := rep.Failed()
	if len(failed) != 3 {
		t.Fatalf("failed %+v, want the spacing-100 MetaImage, the 65535² DICOM series and the huge NIfTI", failed)
	}
	for _, f := range failed {
		msg := cli.About(f.Path, f.Err.Error())
		t.Logf("%s", msg)
		var be *ingest.BudgetError
		if !errors.As(f.Err, &be) || !strings.Contains(msg, "--max-voxels") {
			t.Errorf("%q: want a BudgetError naming --max-voxels", msg)
		}
		if base := filepath.Base(f.Path); strings.Count(msg, base) != 1 {
			t.Errorf("%q names %s other than once", msg, base)
		}
	}
	st, err := store.Open(o.StoreDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := len(storetest.Scans(t, st)); n != 2 {
		t.Errorf("%d scans stored, want the valid one and the many-slice one", n)
	}
}

// hostileDICOM writes a series of 3 slices of a few hundred bytes each
// whose Rows and Columns say 65535: reading it as it claims would take
// 25.7 GB.
func hostileDICOM(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		s := &dicomtest.Slice{SeriesUID: "1.2.3.hostile", SOPUID: fmt.Sprintf("1.2.3.hostile.%d", k), Modality: "CT",
			Rows: 2, Columns: 2, PixelSpacing: [2]float64{0.7, 0.7}, BitsAllocated: 16, BitsStored: 16,
			PixelRepresentation: 1, Slope: 1, Intercept: -1024,
			Position: [3]float64{0, 0, float64(k)}, Orientation: [6]float64{1, 0, 0, 0, 1, 0}}
		var b bytes.Buffer
		if err := dicomtest.Encode(&b, s, "1.2.840.10008.1.2.1", make([]int32, 4)); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		for _, tag := range [][]byte{{0x28, 0, 0x10, 0, 'U', 'S', 2, 0}, {0x28, 0, 0x11, 0, 'U', 'S', 2, 0}} {
			i := bytes.Index(data, tag)
			if i < 0 {
				t.Fatalf("no %x in the slice", tag[:4])
			}
			binary.LittleEndian.PutUint16(data[i+8:], 65535)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.dcm", k)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileNIfTI writes a .nii.gz of a few hundred bytes whose header says
// 2048×1024×1024 uint8 (2 GiB).
func hostileNIfTI(t *testing.T, path string) {
	t.Helper()
	h := &nifti.Header{Version: 1, Dim: [3]int{2, 2, 2}, Datatype: 2, Pixdim: [4]float64{1, 1, 1, 1}}
	var b bytes.Buffer
	if err := nifti.Encode(&b, h, make([]uint8, 8)); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	for i, d := range []int16{2048, 1024, 1024} { // dim[1..3], after dim[0] at byte 40
		binary.LittleEndian.PutUint16(data[42+2*i:], uint16(d))
	}
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(data)
	gz.Close()
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
