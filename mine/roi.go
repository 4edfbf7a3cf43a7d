package mine

import (
	"os"
	"path/filepath"

	"voxmine/internal/atomicfile"
	"voxmine/query"
	"voxmine/store"
)

// WriteROI writes the cube of edge size around voxel c of scan uid to
// path as a .npy, windowed unless d is I16. It is `mine roi`, and what the
// tests compare every mined patch with.
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
	hu := make([]int16, size*size*size)
	if err := query.ROI(v, c, size, v.Info().PadHU, hu); err != nil {
		return err
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
