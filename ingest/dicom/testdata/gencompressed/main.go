// Command gencompressed writes the uncompressed source slices of the
// compressed-DICOM fixtures (make_compressed.sh converts them with DCMTK
// and GDCM): a 12-bit unsigned, a 16-bit signed and an 8-bit slice of
// awkward sizes, with slopes, edges and noise.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"voxmine/ingest/dicom/dicomtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencompressed DIR")
		os.Exit(2)
	}
	seed := uint32(7)
	noise := func(n uint32) int32 {
		seed = seed*1103515245 + 12345
		return int32(seed>>16) % int32(n)
	}
	for _, c := range []struct {
		name         string
		w, h         int
		bits, stored int
		signed       bool
		intercept    float64
		value        func(x, y int) int32
	}{
		{"u12", 61, 47, 16, 12, false, -1024, func(x, y int) int32 {
			v := int32(x*41+y*23)%1500 + noise(60)
			if (x-30)*(x-30)+(y-20)*(y-20) < 150 {
				v += 2000
			}
			return min(v, 4095)
		}},
		{"s16", 53, 41, 16, 16, true, 0, func(x, y int) int32 {
			v := -1024 + int32(x*53+y*29)%2600 + noise(40)
			if x < 6 {
				v = -2048 // padding
			}
			return v
		}},
		{"u8", 37, 29, 8, 8, false, -100, func(x, y int) int32 { return int32(x*5+y*3)%200 + noise(50) }},
		// padding below the body, as in LIDC-IDRI: the scan ends in a run
		{"pad", 64, 40, 16, 16, true, -1024, func(x, y int) int32 {
			if y >= 24 {
				return -2000
			}
			return int32(x*7+y*11)%900 + noise(30)
		}},
	} {
		s := &dicomtest.Slice{
			SeriesUID: "1.2.826.0.1.3680043.9.7.1", StudyUID: "1.2.826.0.1.3680043.9.7", SOPUID: "1.2.826.0.1.3680043.9.7.1." + c.name,
			SeriesNumber: "1", InstanceNumber: "1", Modality: "CT", ImageType: []string{"ORIGINAL", "PRIMARY", "AXIAL"},
			Rows: c.h, Columns: c.w, PixelSpacing: [2]float64{0.7, 0.7}, BitsAllocated: c.bits, BitsStored: c.stored,
			Slope: 1, Intercept: c.intercept, Position: [3]float64{-20, -15, 3}, Orientation: [6]float64{1, 0, 0, 0, 1, 0},
		}
		if c.signed {
			s.PixelRepresentation = 1
		}
		px := make([]int32, c.w*c.h)
		for y := range c.h {
			for x := range c.w {
				px[y*c.w+x] = c.value(x, y)
			}
		}
		var b bytes.Buffer
		if err := dicomtest.Encode(&b, s, "1.2.840.10008.1.2.1", px); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(os.Args[1], c.name+".dcm"), b.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
