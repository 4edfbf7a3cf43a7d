package lungseg_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"voxmine/internal/testenv"
	"voxmine/store"
)

// TestRealPleuralNodules: nodules attached to the chest wall of the real
// LIDC-IDRI-0001 scan, 8 to 20 mm across, each set against the wall at
// the side of a lung at a third, a half and two thirds of its height, stay
// inside the computed lungs: at least 90 % of each nodule's sphere is
// labelled lung (a held-out scan had a 12.8 mm LUNA16 nodule 87 % inside).
// The nodules are drawn into the source slices (soft tissue, 40 HU with
// noise) before resampling, as a scanner would show them.
func TestRealPleuralNodules(t *testing.T) {
	testenv.SkipUnderRace(t)
	hu, g := readLIDC(t)
	_, ref, grid := realLungs(t, hu, g)
	type nodule struct {
		world [3]float64 // x, y, z mm
		r     float64
	}
	// Sites: for each lung, at three heights, its outermost voxel along x
	// in the lung's middle row; the nodule's centre r inside from there, so
	// that it lies on the wall, as a juxtapleural nodule does.
	var nodules []nodule
	nz, ny, nx := grid.Shape[0], grid.Shape[1], grid.Shape[2]
	diameters := []float64{8, 12.8, 20}
	k := 0
	for _, label := range []uint8{store.LabelLungA, store.LabelLungB} {
		lo, hi := nz, -1
		for z := range nz {
			for _, l := range ref.Labels[z*ny*nx : (z+1)*ny*nx] {
				if l == label {
					lo, hi = min(lo, z), max(hi, z)
					break
				}
			}
		}
		for _, f := range []float64{1.0 / 3, 0.5, 2.0 / 3} {
			z := lo + int(f*float64(hi-lo))
			// The lung's middle row at z, then its extreme x away from the
			// body's middle.
			y0, y1 := ny, -1
			for y := range ny {
				for x := range nx {
					if ref.Labels[(z*ny+y)*nx+x] == label {
						y0, y1 = min(y0, y), max(y1, y)
					}
				}
			}
			y := (y0 + y1) / 2
			xs := []int{}
			for x := range nx {
				if ref.Labels[(z*ny+y)*nx+x] == label {
					xs = append(xs, x)
				}
			}
			if len(xs) == 0 {
				continue
			}
			outer, step := xs[0], 1.0 // the lung's outer side: away from the image's middle
			if float64(xs[len(xs)-1]) > float64(nx)/2 && float64(xs[0]) > float64(nx)/2 {
				outer, step = xs[len(xs)-1], -1
			}
			r := diameters[k%len(diameters)] / 2
			k++
			c := [3]float64{float64(z), float64(y), float64(outer) + step*(r+0.5)} // z, y, x on the 1 mm grid
			// The wall curves: step inwards until the whole sphere lies in
			// the pleural cavity (the scan's own lungs), touching the wall.
			for range 4 * int(r) {
				if inside(ref.Labels, grid, worldOf(grid, c), r) >= 0.99 {
					break
				}
				c[2] += step * 0.5
			}
			nodules = append(nodules, nodule{world: worldOf(grid, c), r: r})
		}
	}
	if len(nodules) < 6 {
		t.Fatalf("%d pleural sites found, want 6", len(nodules))
	}
	// Draw them into the source slices.
	out := append([]int16(nil), hu...)
	rng := rand.New(rand.NewPCG(3, 4))
	sz, sy, sx := g.Shape[0], g.Shape[1], g.Shape[2]
	for z := range sz {
		for y := range sy {
			for x := range sx {
				w := worldOf(g, [3]float64{float64(z), float64(y), float64(x)})
				for _, n := range nodules {
					if dist(w, n.world) <= n.r {
						out[(z*sy+y)*sx+x] = int16(40 + 20*rng.NormFloat64())
					}
				}
			}
		}
	}
	_, lungs, grid2 := realLungs(t, out, g)
	for i, n := range nodules {
		frac := inside(lungs.Labels, grid2, n.world, n.r)
		name := fmt.Sprintf("nodule %d, %.1f mm at (%.0f, %.0f, %.0f)", i, 2*n.r, n.world[0], n.world[1], n.world[2])
		t.Logf("%s: %.1f %% inside the computed lungs", name, 100*frac)
		if frac < 0.9 {
			// An 8 mm nodule against the lower lateral wall of the right
			// lung came out 88.7 % inside while the closing's 2 mm cells
			// that held some lung added none of their other voxels.
			t.Errorf("%s: only %.1f %% of it inside the computed lungs, want at least 90 %%", name, 100*frac)
		}
	}
}

// worldOf is the world point (x, y, z) of a continuous voxel index (z, y, x).
func worldOf(g store.Geometry, idx [3]float64) [3]float64 { return g.World(idx) }

func dist(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// inside is the share of the sphere's voxels (on grid g) labelled lung.
func inside(labels []uint8, g store.Geometry, c [3]float64, r float64) float64 {
	ci := g.Index(c)
	in, all := 0, 0
	for z := int(ci[0] - r - 1); z <= int(ci[0]+r+1); z++ {
		for y := int(ci[1] - r - 1); y <= int(ci[1]+r+1); y++ {
			for x := int(ci[2] - r - 1); x <= int(ci[2]+r+1); x++ {
				if z < 0 || y < 0 || x < 0 || z >= g.Shape[0] || y >= g.Shape[1] || x >= g.Shape[2] {
					continue
				}
				if dist(worldOf(g, [3]float64{float64(z), float64(y), float64(x)}), c) > r {
					continue
				}
				all++
				if store.IsLung(labels[(z*g.Shape[1]+y)*g.Shape[2]+x]) {
					in++
				}
			}
		}
	}
	return float64(in) / float64(max(all, 1))
}
