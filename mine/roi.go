package mine

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"voxmine/ingest/nifti"
	"voxmine/internal/atomicfile"
	"voxmine/query"
	"voxmine/store"
)

// WriteROI writes the cube of edge size around voxel c of scan uid to
// path, windowed unless d is I16: as NIfTI when path ends in .nii or
// .nii.gz (with the cube's place in the world, so that ITK-SNAP or 3D
// Slicer overlay it on the scan; float16 is written as float32, which
// NIfTI-1 has), else as .npy. A cube wholly outside the scan is an error.
// It is `mine roi`, and what the tests compare every mined patch with.
func WriteROI(st *store.Store, uid string, c [3]int, size int, d DType, lo, hi float64, path string) error {
	win, err := NewWindow(lo, hi, d)
	if err != nil {
		return err
	}
	v, err := st.OpenVolume(uid)
	if err != nil {
		return err
	}
	defer v.Close()
	b := query.CubeBox(c, size)
	sh := v.Shape()
	if b.Z >= sh[0] || b.Y >= sh[1] || b.X >= sh[2] || b.Z+b.D <= 0 || b.Y+b.H <= 0 || b.X+b.W <= 0 {
		return fmt.Errorf("scan %s: the %d³ cube around voxel %v lies wholly outside the scan (grid %v)", uid, size, c, sh)
	}
	hu := make([]int16, size*size*size)
	if err := query.ROI(v, c, size, v.Info().PadHU, hu); err != nil {
		return err
	}
	if lower := strings.ToLower(path); strings.HasSuffix(lower, ".nii") || strings.HasSuffix(lower, ".nii.gz") {
		return writeNIfTI(path, v.Info().Grid, b, d, win, hu)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := writeNPY(f, d, win.Encode(nil, hu), size, size, size); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// writeNIfTI writes a cube as NIfTI-1 with an sform (code 1, scanner) that
// places it where it lies in the scan: LPS turned to NIfTI's RAS.
func writeNIfTI(path string, g store.Geometry, b store.Box, d DType, win *Window, hu []int16) error {
	h := &nifti.Header{Version: 1, Dim: [3]int{b.W, b.H, b.D}, Pixdim: [4]float64{1, 1, 1, 1}, SformCode: 1}
	corner := query.VoxelWorld(g, [3]int{b.Z, b.Y, b.X})
	for r := range 3 {
		sign := 1.0
		if r < 2 {
			sign = -1 // LPS → RAS
		}
		for c := range 3 {
			h.Srow[r][c] = sign * g.Direction[r*3+c] // the 1 mm grid: spacing 1
		}
		h.Srow[r][3] = sign * corner[r]
	}
	var data any
	if d == I16 {
		h.Datatype, data = 4, hu
	} else {
		f := make([]float32, len(hu))
		for i, v := range hu {
			f[i] = float32((min(max(float64(v), win.Lo), win.Hi) - win.Lo) / (win.Hi - win.Lo))
		}
		h.Datatype, data = 16, f
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if !strings.HasSuffix(strings.ToLower(path), ".gz") {
			return nifti.Encode(w, h, data)
		}
		zw := gzip.NewWriter(w)
		if err := nifti.Encode(zw, h, data); err != nil {
			return err
		}
		return zw.Close()
	})
}
