package metaimage

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteOptions choose the MetaImage variant WriteImage produces.
type WriteOptions struct {
	// MSB writes big-endian data.
	MSB bool
	// Compress writes a zlib .zraw with CompressedDataSize.
	Compress bool
	// Local writes header and data into one file (ElementDataFile = LOCAL,
	// usually .mha).
	Local bool
	// HeaderSize puts that many filler bytes before the data and says so.
	HeaderSize int
	// Anatomical is the AnatomicalOrientation value (default RAI).
	Anatomical string
}

// WriteImage writes a 3-D image as MetaImage with LUNA16's key order. data
// is []int16 (MET_SHORT), []uint8 (MET_UCHAR) or []float32 (MET_FLOAT) in
// z, y, x order; h supplies the geometry.
func WriteImage(path string, h *Header, data any, o WriteOptions) error {
	var bo binary.ByteOrder = binary.LittleEndian
	if o.MSB {
		bo = binary.BigEndian
	}
	var etype string
	var raw []byte
	switch d := data.(type) {
	case []int16:
		etype, raw = "MET_SHORT", make([]byte, 2*len(d))
		for i, v := range d {
			bo.PutUint16(raw[2*i:], uint16(v))
		}
	case []uint8:
		etype, raw = "MET_UCHAR", d
	case []float32:
		etype, raw = "MET_FLOAT", make([]byte, 4*len(d))
		for i, v := range d {
			bo.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	default:
		return fmt.Errorf("%s: cannot write %T", path, data)
	}
	if n := h.DimSize[0] * h.DimSize[1] * h.DimSize[2]; len(raw) != n*elementSizes[etype] {
		return fmt.Errorf("%s: %d bytes of data for DimSize %v", path, len(raw), h.DimSize)
	}
	if o.Compress {
		var buf bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
		zw.Write(raw)
		zw.Close()
		raw = buf.Bytes()
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	dataName := stem + ".raw"
	if o.Compress {
		dataName = stem + ".zraw"
	}
	if o.Local {
		dataName = "LOCAL"
	}
	orient := o.Anatomical
	if orient == "" {
		orient = "RAI"
	}
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	kv("ObjectType", "Image")
	kv("NDims", "3")
	kv("BinaryData", "True")
	kv("BinaryDataByteOrderMSB", pyBool(o.MSB))
	kv("CompressedData", pyBool(o.Compress))
	if o.Compress {
		kv("CompressedDataSize", strconv.Itoa(len(raw)))
	}
	// The matrix is written axis by axis: the transpose of the row-major D.
	var m [9]float64
	for axis := range 3 {
		for r := range 3 {
			m[axis*3+r] = h.Direction[r*3+axis]
		}
	}
	kv("TransformMatrix", floats(m[:]))
	kv("Offset", floats(h.Origin[:]))
	kv("CenterOfRotation", "0 0 0")
	kv("AnatomicalOrientation", orient)
	kv("ElementSpacing", floats(h.Spacing[:]))
	kv("DimSize", fmt.Sprintf("%d %d %d", h.DimSize[0], h.DimSize[1], h.DimSize[2]))
	if o.HeaderSize > 0 {
		kv("HeaderSize", strconv.Itoa(o.HeaderSize))
	}
	kv("ElementType", etype)
	kv("ElementDataFile", dataName)

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	io.WriteString(w, b.String())
	if !o.Local {
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if f, err = os.Create(filepath.Join(filepath.Dir(path), dataName)); err != nil {
			return err
		}
		w.Reset(f)
	}
	if o.HeaderSize > 0 && !o.Local {
		w.Write(bytes.Repeat([]byte{0xEE}, o.HeaderSize))
	}
	w.Write(raw)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		if x == 0 {
			x = 0 // no "-0"
		}
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, " ")
}
