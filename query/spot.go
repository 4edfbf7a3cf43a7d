package query

import (
	"voxmine/store"
	"voxmine/store/spots"
)

// SpotScore is the nodule-likeness of voxel c, as ingest computes it for
// its nodule-like spots (spots.Find): on 2 mm blocks centred on c,
// the largest over three scales of the mean HU of the cube of half-side s
// blocks less the mean of the shell out to half-side 2s (s = 1, 2, 3).
// It reads the 26 mm cube around c; voxels outside the volume count as pad.
func SpotScore(v *store.Volume, c [3]int, pad int16) (float64, error) {
	const cell, half = 2, 6 // half-side of the largest cube, in blocks
	const n = 2*half + 1    // blocks along an axis
	const side = n * cell   // voxels
	buf := make([]int16, side*side*side)
	b := store.Box{Z: c[0] - half*cell, Y: c[1] - half*cell, X: c[2] - half*cell, D: side, H: side, W: side}
	if err := v.ReadHU(b, pad, buf); err != nil {
		return 0, err
	}
	var mean [n][n][n]float64
	for z := range side {
		for y := range side {
			for x := range side {
				mean[z/cell][y/cell][x/cell] += float64(buf[(z*side+y)*side+x])
			}
		}
	}
	cube := func(h int) (float64, int) {
		s, k := 0.0, 0
		for z := half - h; z <= half+h; z++ {
			for y := half - h; y <= half+h; y++ {
				for x := half - h; x <= half+h; x++ {
					s += mean[z][y][x] / (cell * cell * cell)
					k++
				}
			}
		}
		return s, k
	}
	return spots.Score(cube), nil
}
