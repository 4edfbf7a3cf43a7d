package mine

import (
	"compress/gzip"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"voxmine/internal/atomicfile"
	"voxmine/query"
	"voxmine/store"
)

// NIfTI-1 output of one cube (`mine roi --out cube.nii.gz`). mine writes
// the one layout it needs here rather than borrow ingest's reader: data
// flows from ingest to mine, never back.

// writeNIfTI writes a cube as NIfTI-1 with an sform (code 1, scanner) that
// places it where it lies in the scan: LPS turned to NIfTI's RAS. I16
// cubes are int16 HU, the others float32 in [0, 1] (NIfTI-1 has no
// float16).
func writeNIfTI(path string, g store.Geometry, b store.Box, d DType, win *Window, hu []int16) error {
	var srow [3][4]float64
	corner := query.VoxelWorld(g, [3]int{b.Z, b.Y, b.X})
	for r := range 3 {
		sign := 1.0
		if r < 2 {
			sign = -1 // LPS → RAS
		}
		for c := range 3 {
			srow[r][c] = sign * g.Direction[r*3+c] // the 1 mm grid: spacing 1
		}
		srow[r][3] = sign * corner[r]
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if !strings.HasSuffix(strings.ToLower(path), ".gz") {
			return encodeNIfTI(w, [3]int{b.W, b.H, b.D}, srow, d, win, hu)
		}
		zw := gzip.NewWriter(w)
		if err := encodeNIfTI(zw, [3]int{b.W, b.H, b.D}, srow, d, win, hu); err != nil {
			return err
		}
		return zw.Close()
	})
}

// encodeNIfTI writes a single-file NIfTI-1 image (.nii): the 348-byte
// header, 4 bytes of extension flag, then the voxels, x fastest, little
// endian (nifti1.h).
func encodeNIfTI(w io.Writer, dim [3]int, srow [3][4]float64, d DType, win *Window, hu []int16) error {
	const sizeofHeader = 348
	o := binary.LittleEndian
	hdr := make([]byte, sizeofHeader+4)
	o.PutUint32(hdr, sizeofHeader)
	for i, v := range []int{3, dim[0], dim[1], dim[2], 1, 1, 1, 1} {
		o.PutUint16(hdr[40+2*i:], uint16(v))
	}
	datatype, bits := 4, 16 // int16
	if d != I16 {
		datatype, bits = 16, 32 // float32
	}
	o.PutUint16(hdr[70:], uint16(datatype))
	o.PutUint16(hdr[72:], uint16(bits))
	f32 := func(at int, v float64) { o.PutUint32(hdr[at:], math.Float32bits(float32(v))) }
	for i, v := range []float64{1, 1, 1, 1} { // qfac, then 1 mm voxels
		f32(76+4*i, v)
	}
	f32(108, sizeofHeader+4)  // vox_offset
	hdr[123] = 2              // xyzt_units: millimetres
	o.PutUint16(hdr[254:], 1) // sform_code: scanner
	for r := range 3 {
		for c := range 4 {
			f32(280+16*r+4*c, srow[r][c])
		}
	}
	copy(hdr[344:], "n+1\x00")
	raw := make([]byte, len(hu)*bits/8)
	for i, v := range hu {
		if d == I16 {
			o.PutUint16(raw[2*i:], uint16(v))
			continue
		}
		f := (min(max(float64(v), win.Lo), win.Hi) - win.Lo) / (win.Hi - win.Lo)
		o.PutUint32(raw[4*i:], math.Float32bits(float32(f)))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(raw)
	return err
}
