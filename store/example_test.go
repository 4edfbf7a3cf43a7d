package store_test

import (
	"context"
	"fmt"
	"os"

	"voxmine/store"
)

// Example writes a tiny scan into a new store and reads a box that sticks
// out of the volume: the outside part gets the pad value.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example-")
	defer os.RemoveAll(dir)

	w, err := store.NewWriter(dir, store.WriteOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	shape := [3]int{40, 40, 40}
	hu := make([]int16, 40*40*40)
	for i := range hu {
		hu[i] = int16(i % 40) // HU = x
	}
	info := store.ScanInfo{UID: "1.2.840.1", PadHU: -1000,
		Grid: store.Geometry{Shape: shape, Spacing: [3]float64{1, 1, 1}, Direction: store.Identity}}
	if _, err := w.Put(context.Background(), &store.Scan{Info: info, HU: hu}); err != nil {
		fmt.Println(err)
		return
	}

	s, _ := store.Open(dir)
	v, _ := s.OpenVolume("1.2.840.1")
	defer v.Close()
	box := make([]int16, 4)
	v.ReadHU(store.Box{Z: 0, Y: 0, X: 38, D: 1, H: 1, W: 4}, -1000, box) // x = 38, 39, 40, 41
	sum, _ := s.Summary()
	fmt.Println(box, sum.Scans)
	// Output: [38 39 -1000 -1000] 1
}
