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
	n, err := v.CountLung(b)
	if err != nil {
		return 0, err
	}
	return float64(n) / float64(b.Len()), nil
}
