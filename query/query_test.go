package query_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"voxmine/query"
	"voxmine/store"
)

var mirrored = store.Geometry{Shape: [3]int{40, 50, 60}, Origin: [3]float64{158.7, 170.2, -312.5},
	Spacing: [3]float64{1, 1, 1}, Direction: [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}}

func TestWorldVoxelRoundTrip(t *testing.T) {
	geoms := map[string]store.Geometry{
		"identity":    {Shape: [3]int{40, 50, 60}, Origin: [3]float64{-198.1, -195, -335.2}, Spacing: [3]float64{0.7, 0.7, 2.5}, Direction: store.Identity},
		"mirrored":    mirrored,
		"permutation": {Shape: [3]int{4, 5, 6}, Origin: [3]float64{1, 2, 3}, Spacing: [3]float64{1, 2, 3}, Direction: [9]float64{0, -1, 0, 1, 0, 0, 0, 0, 1}},
	}
	for name, g := range geoms {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for range 100 {
				idx := [3]float64{r.Float64() * 40, r.Float64() * 50, r.Float64() * 60}
				back := query.WorldToIndex(g, query.IndexToWorld(g, idx))
				for k := range 3 {
					if math.Abs(back[k]-idx[k]) > 1e-9 {
						t.Fatalf("%v → %v", idx, back)
					}
				}
			}
		})
	}
	// In a mirrored scan, x and y run backwards from the origin: the world
	// point 10 mm left of the origin is voxel x = 10, not −10.
	v := query.NearestVoxel(mirrored, [3]float64{148.7, 160.2, -300.5})
	if v != [3]int{12, 10, 10} {
		t.Errorf("mirrored voxel %v, want [12 10 10]", v)
	}
}

func ExampleNearestVoxel() {
	// LUNA16's mirrored scans have TransformMatrix = -1 0 0 0 -1 0 0 0 1.
	g := store.Geometry{Shape: [3]int{300, 350, 350}, Origin: [3]float64{170, 160, -320},
		Spacing: [3]float64{1, 1, 1}, Direction: [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}}
	fmt.Println(query.NearestVoxel(g, [3]float64{-56.1, 67.2, -110.5}))
	// Output: [210 93 226]
}

func ExampleCubeBox() {
	// A 64³ cube covers [c − 32, c + 32) on each axis, as the notebook's did.
	fmt.Printf("%+v\n", query.CubeBox([3]int{100, 50, 32}, 64))
	// Output: {Z:68 Y:18 X:0 D:64 H:64 W:64}
}

// testVolume stores a volume whose HU encode the voxel position and whose
// left half of a central block is lung.
func testVolume(t *testing.T) (*store.Volume, []int16, []uint8, [3]int) {
	t.Helper()
	shape := [3]int{50, 70, 90}
	n := shape[0] * shape[1] * shape[2]
	hu, lab := make([]int16, n), make([]uint8, n)
	for z := range shape[0] {
		for y := range shape[1] {
			for x := range shape[2] {
				i := (z*shape[1]+y)*shape[2] + x
				hu[i] = int16(z*100 + y*10 + x%10)
				if z > 5 && z < 45 && y > 10 && y < 60 && x > 8 && x < 80 {
					lab[i] = 3 + uint8(x/45)
				}
			}
		}
	}
	dir := t.TempDir()
	w, err := store.NewWriter(dir, store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := store.Geometry{Shape: shape, Spacing: [3]float64{1, 1, 1}, Direction: store.Identity}
	if _, err := w.Put(context.Background(), &store.Scan{Info: store.ScanInfo{UID: "v", Grid: g, PadHU: -1000}, HU: hu, Labels: lab}); err != nil {
		t.Fatal(err)
	}
	s, _ := store.Open(dir)
	v, err := s.OpenVolume("v")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, hu, lab, shape
}

func TestROIPadsOnTheSideItFallsOut(t *testing.T) {
	v, hu, _, shape := testVolume(t)
	// Centre near the low x edge: the first 10 x columns of the cube lie
	// outside and must be padding; the content stays where it belongs.
	c := [3]int{25, 35, 6}
	const size = 32
	cube := make([]int16, size*size*size)
	if err := query.ROI(v, c, size, -1000, cube); err != nil {
		t.Fatal(err)
	}
	for z := range size {
		for y := range size {
			for x := range size {
				vz, vy, vx := c[0]-16+z, c[1]-16+y, c[2]-16+x
				want := int16(-1000)
				if vx >= 0 {
					want = hu[(vz*shape[1]+vy)*shape[2]+vx]
				}
				if got := cube[(z*size+y)*size+x]; got != want {
					t.Fatalf("cube (%d,%d,%d): %d, want %d", z, y, x, got, want)
				}
			}
		}
	}
	if err := query.ROI(v, c, 0, 0, cube); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestLungFractionAndLabel(t *testing.T) {
	v, _, lab, shape := testVolume(t)
	for _, tc := range []struct {
		c    [3]int
		size int
	}{{[3]int{25, 35, 45}, 64}, {[3]int{2, 2, 2}, 16}, {[3]int{25, 35, 45}, 8}, {[3]int{48, 68, 88}, 40}} {
		got, err := query.LungFraction(v, tc.c, tc.size)
		if err != nil {
			t.Fatal(err)
		}
		b := query.CubeBox(tc.c, tc.size)
		n := 0
		for z := b.Z; z < b.Z+b.D; z++ {
			for y := b.Y; y < b.Y+b.H; y++ {
				for x := b.X; x < b.X+b.W; x++ {
					if query.Inside(shape, [3]int{z, y, x}) && store.IsLung(lab[(z*shape[1]+y)*shape[2]+x]) {
						n++
					}
				}
			}
		}
		if want := float64(n) / float64(b.Len()); math.Abs(got-want) > 1e-12 {
			t.Errorf("cube %v/%d: lung fraction %v, want %v", tc.c, tc.size, got, want)
		}
	}
	if l, _ := query.LabelAt(v, [3]int{20, 30, 70}); l != 4 {
		t.Errorf("label %d, want 4", l)
	}
}

func TestLungSamplerDrawsOnlyLungUniformly(t *testing.T) {
	v, _, lab, shape := testVolume(t)
	s, err := query.NewLungSampler(v)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, l := range lab {
		if store.IsLung(l) {
			total++
		}
	}
	if s.LungVoxels() != total {
		t.Fatalf("sampler counts %d lung voxels, the mask has %d", s.LungVoxels(), total)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const draws = 20000
	perZ := make([]int, shape[0])
	for range draws {
		c, err := s.Draw(r)
		if err != nil {
			t.Fatal(err)
		}
		if !store.IsLung(lab[(c[0]*shape[1]+c[1])*shape[2]+c[2]]) {
			t.Fatalf("drew %v, not lung", c)
		}
		perZ[c[0]]++
	}
	// Every lung slice holds the same number of lung voxels: the draws per
	// slice must be even (a χ² test at a generous level).
	chi, k := 0.0, 0
	exp := float64(draws) / 39
	for z := 6; z < 45; z++ {
		d := float64(perZ[z]) - exp
		chi += d * d / exp
		k++
	}
	if chi > 80 { // 38 degrees of freedom: p < 1e-4
		t.Errorf("draws per slice are uneven: χ² = %.1f over %d slices", chi, k)
	}
}

func TestNearestAndCubeTouches(t *testing.T) {
	sp := []query.Sphere{{Center: [3]float64{0, 0, 0}, Radius: 15}, {Center: [3]float64{100, 0, 0}, Radius: 2}}
	tests := []struct {
		p       [3]float64
		surface bool
		want    float64
		at      int
	}{
		{[3]float64{20, 0, 0}, false, 20, 0},
		{[3]float64{20, 0, 0}, true, 5, 0},
		{[3]float64{90, 0, 0}, true, 8, 1},
		{[3]float64{5, 0, 0}, true, -10, 0},
	}
	for _, tc := range tests {
		d, at := query.Nearest(tc.p, sp, tc.surface)
		if math.Abs(d-tc.want) > 1e-12 || at != tc.at {
			t.Errorf("Nearest(%v, surface %v) = %v, %d; want %v, %d", tc.p, tc.surface, d, at, tc.want, tc.at)
		}
	}
	if d, at := query.Nearest([3]float64{}, nil, false); !math.IsInf(d, 1) || at != -1 {
		t.Error("no findings")
	}
	// A 64 mm cube centred 20 mm from a 30 mm nodule contains part of it.
	if !query.CubeTouches([3]float64{-12, -32, -32}, [3]float64{52, 32, 32}, sp[0]) {
		t.Error("cube overlapping the nodule not detected")
	}
	if query.CubeTouches([3]float64{16, 16, 16}, [3]float64{80, 80, 80}, sp[0]) {
		t.Error("corner 27 mm away counted as touching a 15 mm sphere")
	}
}
