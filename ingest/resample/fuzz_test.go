package resample

import (
	"context"
	"math"
	"testing"

	"voxmine/store/grid"
)

// FuzzGeometry: no size, spacing and direction make Grid1mm or Linear
// panic; the 1 mm grid covers the source's extent, and a grid of a
// reasonable size resamples (the budget that refuses the rest lives in
// ingest, which checks Grid1mm's shape before anything is allocated).
func FuzzGeometry(f *testing.F) {
	f.Add(4, 5, 6, 0.7, 0.7, 2.5, false)
	f.Add(64, 64, 64, 100.0, 100.0, 100.0, false) // the hostile MetaImage: a 6400³ grid
	f.Add(3, 3, 3, 1e-9, 1.0, 1.0, true)
	f.Add(2, 2, 2, math.Inf(1), 1.0, 1.0, false)
	f.Fuzz(func(t *testing.T, nz, ny, nx int, sx, sy, sz float64, flip bool) {
		if nz <= 0 || ny <= 0 || nx <= 0 || nz*ny*nx > 4096 {
			return
		}
		d := grid.Identity
		if flip {
			d = [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}
		}
		in := grid.Geometry{Shape: [3]int{nz, ny, nx}, Spacing: [3]float64{sx, sy, sz}, Direction: d}
		out := Grid1mm(in)
		n := 1
		for a, s := range out.Shape {
			if s <= 0 {
				return // an empty or overflowing grid: ingest's budget check refuses it
			}
			sp := in.Spacing[2-a]
			if want := math.Round(float64(in.Shape[a]) * sp); sp > 0 && !math.IsInf(sp, 0) && want >= 1 && want < 1e6 && math.Abs(float64(s)-want) > 1 {
				t.Fatalf("axis %d: %d voxels for %d × %g mm", a, s, in.Shape[a], in.Spacing[2-a])
			}
			n *= s
			if n > 1<<20 {
				return
			}
		}
		src := make([]int16, in.Voxels())
		for i := range src {
			src[i] = int16(i)
		}
		vol, err := Linear(context.Background(), src, in, out, -1000, 2)
		if err == nil && len(vol) != out.Voxels() {
			t.Fatalf("%d voxels for a %v grid", len(vol), out.Shape)
		}
		if _, err := Nearest(context.Background(), make([]uint8, in.Voxels()), in, out, 2); err == nil && len(vol) != out.Voxels() {
			t.Fatal("Nearest disagrees with Linear")
		}
	})
}
