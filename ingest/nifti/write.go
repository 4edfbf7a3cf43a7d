package nifti

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Encode writes a single-file NIfTI image (.nii) of h's version (1 or 2),
// little-endian, with h's dimensions, datatype, pixdim, scaling and both
// transforms as given: tests make every variant ITK has to choose between.
// data holds h.Voxels() values (x fastest) of h's datatype: []uint8,
// []int8, []int16, []uint16, []int32, []float32 or []float64.
func Encode(w io.Writer, h *Header, data any) error {
	o := binary.LittleEndian
	var raw []byte
	put := func(size int, f func(b []byte, i int)) {
		raw = make([]byte, size*h.Voxels())
		for i := range h.Voxels() {
			f(raw[size*i:], i)
		}
	}
	want := map[string]int16{"[]uint8": 2, "[]int8": 256, "[]int16": 4, "[]uint16": 512, "[]int32": 8, "[]float32": 16, "[]float64": 64}
	if dt, ok := want[fmt.Sprintf("%T", data)]; !ok || dt != h.Datatype {
		return fmt.Errorf("nifti: %T data for datatype %d", data, h.Datatype)
	}
	switch d := data.(type) {
	case []uint8:
		raw = append([]byte(nil), d...)
	case []int8:
		put(1, func(b []byte, i int) { b[0] = byte(d[i]) })
	case []int16:
		put(2, func(b []byte, i int) { o.PutUint16(b, uint16(d[i])) })
	case []uint16:
		put(2, func(b []byte, i int) { o.PutUint16(b, d[i]) })
	case []int32:
		put(4, func(b []byte, i int) { o.PutUint32(b, uint32(d[i])) })
	case []float32:
		put(4, func(b []byte, i int) { o.PutUint32(b, math.Float32bits(d[i])) })
	case []float64:
		put(8, func(b []byte, i int) { o.PutUint64(b, math.Float64bits(d[i])) })
	}
	if len(raw) != h.Voxels()*datatypes[h.Datatype].size {
		return fmt.Errorf("nifti: %d bytes of data for dim %v", len(raw), h.Dim)
	}
	var hdr []byte
	f32 := func(b []byte, v float64) { o.PutUint32(b, math.Float32bits(float32(v))) }
	f64 := func(b []byte, v float64) { o.PutUint64(b, math.Float64bits(v)) }
	if h.Version == 2 {
		hdr = make([]byte, sizeofHeader2+4)
		o.PutUint32(hdr, sizeofHeader2)
		copy(hdr[4:], "n+2\x00\r\n\x1a\n")
		o.PutUint16(hdr[12:], uint16(h.Datatype))
		o.PutUint16(hdr[14:], uint16(8*datatypes[h.Datatype].size))
		dims := []int64{3, int64(h.Dim[0]), int64(h.Dim[1]), int64(h.Dim[2]), 1, 1, 1, 1}
		for i, v := range dims {
			o.PutUint64(hdr[16+8*i:], uint64(v))
		}
		for i := range 4 {
			f64(hdr[104+8*i:], h.Pixdim[i])
		}
		o.PutUint64(hdr[168:], uint64(sizeofHeader2+4))
		f64(hdr[176:], h.Slope)
		f64(hdr[184:], h.Inter)
		o.PutUint32(hdr[344:], uint32(h.QformCode))
		o.PutUint32(hdr[348:], uint32(h.SformCode))
		for i := range 3 {
			f64(hdr[352+8*i:], h.Quatern[i])
			f64(hdr[376+8*i:], h.Qoffset[i])
			for j := range 4 {
				f64(hdr[400+32*i+8*j:], h.Srow[i][j])
			}
		}
	} else {
		hdr = make([]byte, sizeofHeader1+4)
		o.PutUint32(hdr, sizeofHeader1)
		dims := []int16{3, int16(h.Dim[0]), int16(h.Dim[1]), int16(h.Dim[2]), 1, 1, 1, 1}
		for i, v := range dims {
			o.PutUint16(hdr[40+2*i:], uint16(v))
		}
		o.PutUint16(hdr[70:], uint16(h.Datatype))
		o.PutUint16(hdr[72:], uint16(8*datatypes[h.Datatype].size))
		for i := range 4 {
			f32(hdr[76+4*i:], h.Pixdim[i])
		}
		f32(hdr[108:], sizeofHeader1+4)
		f32(hdr[112:], h.Slope)
		f32(hdr[116:], h.Inter)
		hdr[123] = 2 // xyzt_units: millimetres
		o.PutUint16(hdr[252:], uint16(h.QformCode))
		o.PutUint16(hdr[254:], uint16(h.SformCode))
		for i := range 3 {
			f32(hdr[256+4*i:], h.Quatern[i])
			f32(hdr[268+4*i:], h.Qoffset[i])
			for j := range 4 {
				f32(hdr[280+16*i+4*j:], h.Srow[i][j])
			}
		}
		copy(hdr[344:], "n+1\x00")
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(raw)
	return err
}

// WriteFile writes h and data to path, gzipped when path ends in .gz.
func WriteFile(path string, h *Header, data any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	err = Encode(w, h, data)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
