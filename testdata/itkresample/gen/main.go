// Command gen writes the small input volumes of the ITK golden tests.
// make_golden.sh runs it, then ITK's resampler on each input.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"voxmine/ingest/metaimage"
)

// Case is one golden input: its geometry in ITK order (x, y, z).
type Case struct {
	Name      string
	Size      [3]int
	Spacing   [3]float64
	Origin    [3]float64
	Direction [9]float64
	Mask      bool
}

var identity = [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
var mirrored = [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}

// Cases lists the inputs; keep it in step with ingest/golden_test.go.
var Cases = []Case{
	{"aniso", [3]int{23, 17, 9}, [3]float64{0.7, 0.83, 2.5}, [3]float64{-100.3, -50.25, -300.1}, identity, false},
	{"flipped", [3]int{31, 29, 13}, [3]float64{0.6171875, 0.6171875, 1.25}, [3]float64{158.69, 170.2, -312.5}, mirrored, false},
	{"odd", [3]int{20, 21, 30}, [3]float64{1.3, 0.97, 0.625}, [3]float64{-198.100006, -195, -335.209991}, identity, false},
	{"luna", [3]int{64, 64, 20}, [3]float64{0.7617189884185791, 0.7617189884185791, 2.500000238}, [3]float64{-198.10000600000001, -195, -335.209991}, identity, false},
	{"mask", [3]int{25, 19, 11}, [3]float64{0.66, 0.71, 1.8}, [3]float64{12.5, -7.25, 99}, mirrored, true},
}

func main() {
	dir := "inputs"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, c := range Cases {
		r := rand.New(rand.NewPCG(uint64(i)+1, 99))
		n := c.Size[0] * c.Size[1] * c.Size[2]
		h := &metaimage.Header{DimSize: c.Size, Spacing: c.Spacing, Origin: c.Origin, Direction: c.Direction}
		var data any
		if c.Mask {
			m := make([]uint8, n)
			for j := range m {
				m[j] = []uint8{0, 3, 4, 5}[r.IntN(4)]
			}
			data = m
		} else {
			v := make([]int16, n)
			for j := range v {
				v[j] = int16(r.IntN(2600) - 1100) // negative and positive: truncation matters
			}
			data = v
		}
		if err := metaimage.WriteImage(filepath.Join(dir, c.Name+".mhd"), h, data, metaimage.WriteOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
