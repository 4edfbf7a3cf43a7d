package query

import (
	"fmt"

	"voxmine/store"
)

// ROI fills dst (size³ values, z, y, x order) with the HU of the cube of
// edge size centred on voxel c, reading only the chunks it touches. Parts
// outside the volume get pad, on the side where they fall out: the content
// stays centred, unlike the notebook, which spread its padding over both
// sides.
func ROI(v *store.Volume, c [3]int, size int, pad int16, dst []int16) error {
	if size <= 0 {
		return fmt.Errorf("ROI size %d is not positive", size)
	}
	return v.ReadHU(CubeBox(c, size), pad, dst)
}

// ROILabels is ROI for the label mask; outside voxels get 0.
func ROILabels(v *store.Volume, c [3]int, size int, dst []uint8) error {
	if size <= 0 {
		return fmt.Errorf("ROI size %d is not positive", size)
	}
	return v.ReadLabels(CubeBox(c, size), 0, dst)
}

// LabelAt returns the label of voxel c (0 outside the volume). A chunk the
// index shows to be uniform is answered without decoding.
func LabelAt(v *store.Volume, c [3]int) (uint8, error) {
	var b [1]uint8
	err := v.ReadLabels(store.Box{Z: c[0], Y: c[1], X: c[2], D: 1, H: 1, W: 1}, 0, b[:])
	return b[0], err
}

// LungFraction returns the share of lung voxels (labels 3 and 4) in the
// cube of edge size around c. Chunks the cube covers whole are counted
// from the chunk index; only the partly covered ones are decoded.
func LungFraction(v *store.Volume, c [3]int, size int) (float64, error) {
	if !v.HasLabels() {
		return 0, fmt.Errorf("scan %s has no lung mask", v.Info().UID)
	}
	b := CubeBox(c, size)
	st := v.Stats()
	shape := v.Shape()
	lung := 0
	var buf []uint8
	lo := [3]int{max(b.Z, 0), max(b.Y, 0), max(b.X, 0)}
	hi := [3]int{min(b.Z+b.D, shape[0]), min(b.Y+b.H, shape[1]), min(b.X+b.W, shape[2])}
	if lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2] {
		return 0, nil
	}
	const cs = store.ChunkSize
	for cz := lo[0] / cs; cz <= (hi[0]-1)/cs; cz++ {
		for cy := lo[1] / cs; cy <= (hi[1]-1)/cs; cy++ {
			for cx := lo[2] / cs; cx <= (hi[2]-1)/cs; cx++ {
				part := store.Box{Z: max(lo[0], cz*cs), Y: max(lo[1], cy*cs), X: max(lo[2], cx*cs)}
				part.D = min(hi[0], (cz+1)*cs) - part.Z
				part.H = min(hi[1], (cy+1)*cs) - part.Y
				part.W = min(hi[2], (cx+1)*cs) - part.X
				ci := st.Index(cz, cy, cx)
				n := st.LungCount(ci)
				if n == 0 {
					continue
				}
				if part.Len() == st.Voxels(ci) {
					lung += n // the whole chunk is inside the cube
					continue
				}
				if cap(buf) < part.Len() {
					buf = make([]uint8, part.Len())
				}
				buf = buf[:part.Len()]
				if err := v.ReadLabels(part, 0, buf); err != nil {
					return 0, err
				}
				for _, l := range buf {
					if store.IsLung(l) {
						lung++
					}
				}
			}
		}
	}
	return float64(lung) / float64(b.Len()), nil
}
