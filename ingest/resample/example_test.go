package resample_test

import (
	"fmt"

	"voxmine/ingest/resample"
	"voxmine/store/grid"
)

// The 1 mm grid of a typical LUNA16 scan: round(size × spacing) voxels per
// axis, halves to even, as the notebook's SimpleITK call gives.
func ExampleGrid1mm() {
	scan := grid.Geometry{
		Shape:     [3]int{121, 512, 512}, // z, y, x
		Spacing:   [3]float64{0.7617189884185791, 0.7617189884185791, 2.5},
		Origin:    [3]float64{-198.100006, -195, -335.209991},
		Direction: grid.Identity,
	}
	g := resample.Grid1mm(scan)
	fmt.Println(g.Shape, g.Spacing, g.Origin == scan.Origin)
	// Output: [302 390 390] [1 1 1] true
}
