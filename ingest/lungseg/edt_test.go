package lungseg

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestSqDistance compares the separable transform with brute force on
// random sparse sets, on shapes that are not multiples of the block, with
// and without a limit (distances above it come out as farAway).
func TestSqDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, shape := range [][3]int{{5, 7, 9}, {17, 3, 33}, {1, 1, 40}, {9, 20, 1}, {12, 14, 16}} {
		n := shape[0] * shape[1] * shape[2]
		fg := make([]bool, n)
		for i := range fg {
			fg[i] = r.IntN(40) == 0
		}
		fg[n/2] = true
		got := make([]int32, n)
		for _, limit := range []int32{farAway - 1, 5, 0} {
			for _, workers := range []int{1, 3} {
				if err := sqDistance(context.Background(), fg, true, shape, got, limit, workers); err != nil {
					t.Fatal(err)
				}
				for i := range n {
					z, y, x := i/(shape[1]*shape[2]), i/shape[2]%shape[1], i%shape[2]
					best := -1
					for j := range n {
						if !fg[j] {
							continue
						}
						dz, dy, dx := z-j/(shape[1]*shape[2]), y-j/shape[2]%shape[1], x-j%shape[2]
						if d := dz*dz + dy*dy + dx*dx; best < 0 || d < best {
							best = d
						}
					}
					want := int32(best)
					if want > limit {
						want = farAway
					}
					if got[i] != want {
						t.Fatalf("shape %v limit %d workers %d voxel %d: %v, brute force %d", shape, limit, workers, i, got[i], want)
					}
				}
			}
		}
	}
}
