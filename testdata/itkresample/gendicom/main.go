// Command gendicom writes the DICOM series of the ITK golden tests, one
// folder per case: every native transfer syntax, signed and unsigned
// pixels with fewer bits stored, a flipped slice order, files in random
// order under random names, mirrored and oblique orientations.
// make_golden.sh runs it, then ITK's series reader on each folder.
package main

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"voxmine/ingest/dicom/dicomtest"
)

type series struct {
	ts                     string
	signed                 bool
	bitsStored             int
	row, col               [3]float64 // direction cosines
	step                   float64    // slice step along the normal (negative: the files run backwards)
	names                  string     // "sorted", "reverse" or "random"
	slope, intercept       float64
	rows, cols, slices     int
	spacingRow, spacingCol float64
}

func main() {
	dir := os.Args[1]
	if len(os.Args) > 2 && os.Args[1] == "-big" {
		// One full-size series for benchmarks: 512×512×300, 0.7 mm, 1 mm slices.
		c := series{ts: "1.2.840.10008.1.2.1", signed: true, bitsStored: 16, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0},
			step: 1, names: "random", slope: 1, intercept: -1024, rows: 512, cols: 512, slices: 300, spacingRow: 0.7, spacingCol: 0.7}
		if err := write(os.Args[2], "big", c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	r30 := 30 * math.Pi / 180
	cases := map[string]series{
		"explicit-le-signed":   {ts: "1.2.840.10008.1.2.1", signed: true, bitsStored: 16, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: 2.5, names: "random", slope: 1, intercept: -1024},
		"implicit-le-unsigned": {ts: "1.2.840.10008.1.2", bitsStored: 12, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: 1.25, names: "sorted", slope: 1, intercept: -1024},
		"explicit-be":          {ts: "1.2.840.10008.1.2.2", signed: true, bitsStored: 16, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: 2, names: "sorted", slope: 1, intercept: 0},
		"deflated":             {ts: "1.2.840.10008.1.2.1.99", signed: true, bitsStored: 16, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: 3, names: "random", slope: 1, intercept: -1024},
		"flipped-order":        {ts: "1.2.840.10008.1.2.1", signed: true, bitsStored: 16, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: -2.5, names: "sorted", slope: 1, intercept: -1024},
		"mirrored-axes":        {ts: "1.2.840.10008.1.2.1", signed: true, bitsStored: 16, row: [3]float64{-1, 0, 0}, col: [3]float64{0, -1, 0}, step: 1.5, names: "reverse", slope: 1, intercept: -1024},
		"oblique":              {ts: "1.2.840.10008.1.2.1", signed: true, bitsStored: 16, row: [3]float64{math.Cos(r30), math.Sin(r30), 0}, col: [3]float64{-math.Sin(r30), math.Cos(r30), 0}, step: 2, names: "random", slope: 1, intercept: -1024},
		"slope-2":              {ts: "1.2.840.10008.1.2.1", bitsStored: 12, row: [3]float64{1, 0, 0}, col: [3]float64{0, 1, 0}, step: 2, names: "sorted", slope: 2, intercept: -2048},
	}
	for name, c := range cases {
		c.rows, c.cols, c.slices, c.spacingRow, c.spacingCol = 16, 20, 9, 0.8, 0.7
		if err := write(filepath.Join(dir, name), name, c); err != nil {
			fmt.Fprintln(os.Stderr, name, err)
			os.Exit(1)
		}
	}
}

func write(dir, name string, c series) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	id := h.Sum32() % 100000 // each case its own series uid
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	normal := [3]float64{c.row[1]*c.col[2] - c.row[2]*c.col[1], c.row[2]*c.col[0] - c.row[0]*c.col[2], c.row[0]*c.col[1] - c.row[1]*c.col[0]}
	perm := rng.Perm(c.slices)
	for k := range c.slices {
		s := &dicomtest.Slice{
			SeriesUID: "1.2.826.0.1.3680043.10.1234.2." + fmt.Sprint(id), StudyUID: "1.2.826.0.1.3680043.10.1234.3",
			SOPUID: fmt.Sprintf("1.2.826.0.1.3680043.10.1234.4.%d.%d", id, k), SeriesNumber: "7", InstanceNumber: fmt.Sprint(k + 1),
			Modality: "CT", ImageType: []string{"ORIGINAL", "PRIMARY", "AXIAL"}, Rows: c.rows, Columns: c.cols,
			PixelSpacing: [2]float64{c.spacingRow, c.spacingCol}, BitsAllocated: 16, BitsStored: c.bitsStored,
			Slope: c.slope, Intercept: c.intercept,
		}
		if c.signed {
			s.PixelRepresentation = 1
		}
		copy(s.Orientation[:3], c.row[:])
		copy(s.Orientation[3:], c.col[:])
		for i := range 3 {
			s.Position[i] = []float64{-120.5, 33.25, -250}[i] + float64(k)*c.step*normal[i]
		}
		px := make([]int32, c.rows*c.cols)
		for i := range px {
			x, y := i%c.cols, i/c.cols
			v := int32(900*math.Sin(float64(x)/3+float64(k)/2)*math.Cos(float64(y)/4)) + int32(rng.IntN(60))
			if c.signed {
				px[i] = v
			} else {
				px[i] = v + 1024 // unsigned storage of HU + 1024
			}
		}
		var b bytes.Buffer
		if err := dicomtest.Encode(&b, s, c.ts, px); err != nil {
			return err
		}
		var file string
		switch c.names {
		case "sorted":
			file = fmt.Sprintf("%06d.dcm", k+1)
		case "reverse":
			file = fmt.Sprintf("%06d.dcm", c.slices-k)
		default:
			file = fmt.Sprintf("IM%04X", 0x1000+perm[k]*37) // no suffix, order unrelated to position
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
