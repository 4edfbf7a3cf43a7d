package mine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
