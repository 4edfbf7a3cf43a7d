package lungseg

import (
	"context"
	"testing"
)

// TestComponentsAcrossTheCut: a U-shaped tube whose two legs cross the
// middle slice (where the volume is split in two halves) and are joined
// only at the bottom is one component; a blob in each half stays separate.
func TestComponentsAcrossTheCut(t *testing.T) {
	shape := [3]int{20, 30, 30}
	seg := make([]uint8, 20*30*30)
	box := func(z0, z1, y0, y1, x0, x1 int) {
		for z := z0; z < z1; z++ {
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					seg[(z*30+y)*30+x] = segAir
				}
			}
		}
	}
	box(2, 18, 5, 16, 5, 8)    // left leg: 16 × 11 × 3
	box(2, 18, 5, 16, 18, 21)  // right leg
	box(2, 3, 5, 16, 8, 18)    // the bottom joining them: 1 × 11 × 10
	box(0, 10, 18, 28, 20, 30) // a blob in the lower half, 1000 voxels
	box(10, 20, 18, 28, 8, 18) // one in the upper half, 1000 voxels
	comps, err := components3D(context.Background(), seg, shape, 2)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range comps {
		sizes = append(sizes, c.size)
	}
	want := []int{2*16*11*3 + 11*10, 1000, 1000}
	if len(sizes) != 3 || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Fatalf("components %v, want %v", sizes, want)
	}
	if c := comps[0]; c.lo != [3]int{2, 5, 5} || c.hi != [3]int{17, 15, 20} {
		t.Errorf("box of the U %v–%v", c.lo, c.hi)
	}
	for i := range seg {
		if seg[i] == segAir {
			t.Fatal("a voxel was not visited")
		}
	}
}
