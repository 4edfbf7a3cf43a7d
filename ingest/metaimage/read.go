package metaimage

import (
	"bufio"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"

	"voxmine/ingest/source"
)

// ReadCT reads a MetaImage CT scan as int16 HU in z, y, x order. Any
// element type is accepted as long as every value fits int16 (floating
// values are rounded to the nearest integer).
func ReadCT(path string) (*Header, []int16, error) {
	h, err := ReadHeader(path)
	if err != nil {
		return nil, nil, err
	}
	if err := h.checkData(); err != nil {
		return nil, nil, err
	}
	out := make([]int16, h.Voxels())
	if h.ElementType == "MET_SHORT" && !h.MSB {
		// The common LUNA16 case: read the file straight into the result.
		err = h.readData(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 2*len(out)))
		return h, out, err
	}
	raw := make([]byte, h.Voxels()*h.ElementSize())
	if err := h.readData(raw); err != nil {
		return nil, nil, err
	}
	err = convert(h, raw, func(i int, v float64) error {
		r := math.RoundToEven(v)
		if !(r >= math.MinInt16 && r <= math.MaxInt16) {
			return fmt.Errorf("value %v at voxel %d does not fit int16 HU", v, i)
		}
		out[i] = int16(r)
		return nil
	})
	return h, out, err
}

// ReadLabels reads a MetaImage label mask as uint8. Values outside 0…255
// are an error.
func ReadLabels(path string) (*Header, []uint8, error) {
	h, err := ReadHeader(path)
	if err != nil {
		return nil, nil, err
	}
	if err := h.checkData(); err != nil {
		return nil, nil, err
	}
	out := make([]uint8, h.Voxels())
	if h.ElementSize() == 1 {
		if err := h.readData(out); err != nil {
			return nil, nil, err
		}
		if h.ElementType == "MET_CHAR" {
			for i, v := range out {
				if int8(v) < 0 {
					return nil, nil, source.Formatf(path, "label %d at voxel %d is negative", int8(v), i)
				}
			}
		}
		return h, out, nil
	}
	raw := make([]byte, h.Voxels()*h.ElementSize())
	if err := h.readData(raw); err != nil {
		return nil, nil, err
	}
	err = convert(h, raw, func(i int, v float64) error {
		if !(v >= 0 && v <= 255 && v == math.Trunc(v)) {
			return fmt.Errorf("label %v at voxel %d is not a whole number in 0…255", v, i)
		}
		out[i] = uint8(v)
		return nil
	})
	return h, out, err
}

// convert decodes raw element bytes and hands each value to put.
func convert(h *Header, raw []byte, put func(i int, v float64) error) error {
	var bo binary.ByteOrder = binary.LittleEndian
	if h.MSB {
		bo = binary.BigEndian
	}
	n := h.Voxels()
	var at func(i int) float64
	switch h.ElementType {
	case "MET_CHAR":
		at = func(i int) float64 { return float64(int8(raw[i])) }
	case "MET_UCHAR":
		at = func(i int) float64 { return float64(raw[i]) }
	case "MET_SHORT":
		at = func(i int) float64 { return float64(int16(bo.Uint16(raw[2*i:]))) }
	case "MET_USHORT":
		at = func(i int) float64 { return float64(bo.Uint16(raw[2*i:])) }
	case "MET_INT", "MET_LONG":
		at = func(i int) float64 { return float64(int32(bo.Uint32(raw[4*i:]))) }
	case "MET_UINT", "MET_ULONG":
		at = func(i int) float64 { return float64(bo.Uint32(raw[4*i:])) }
	case "MET_LONG_LONG":
		at = func(i int) float64 { return float64(int64(bo.Uint64(raw[8*i:]))) }
	case "MET_ULONG_LONG":
		at = func(i int) float64 { return float64(bo.Uint64(raw[8*i:])) }
	case "MET_FLOAT":
		at = func(i int) float64 { return float64(math.Float32frombits(bo.Uint32(raw[4*i:]))) }
	case "MET_DOUBLE":
		at = func(i int) float64 { return math.Float64frombits(bo.Uint64(raw[8*i:])) }
	default:
		return source.Formatf(h.Path, "ElementType %q is not supported", h.ElementType)
	}
	for i := range n {
		if err := put(i, at(i)); err != nil {
			return source.Formatf(h.Path, "%w", err)
		}
	}
	return nil
}

// readData fills dst with the image's raw element bytes in file order.
func (h *Header) readData(dst []byte) error {
	f, err := os.Open(h.DataFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return source.Formatf(h.Path, "data file %s does not exist", h.DataFile)
		}
		return source.Formatf(h.Path, "data file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return source.Formatf(h.Path, "data file: %w", err)
	}
	return h.DecodeData(f, st.Size(), dst)
}

// maxDeflateRatio is the most a deflate stream (zlib, gzip) expands: a
// compressed file smaller than 1/1032 of the image cannot hold it.
const maxDeflateRatio = 1032

// dataRange returns where the image's bytes (need of them) lie in a data
// file of size bytes: their offset and, compressed, the stream's length.
// It fails when the file cannot hold them.
func (h *Header) dataRange(size, need int64) (start, csize int64, err error) {
	start = h.HeaderSize
	if h.Local {
		start = h.dataStart
	}
	if !h.Compressed {
		if h.HeaderSize == -1 {
			start = size - need
		}
		if start < 0 || size-start < need {
			return 0, 0, source.Formatf(h.Path, "data file %s holds %d bytes from offset %d, but DimSize %v of %s needs %d (truncated?)",
				h.DataFile, max(0, size-max(start, 0)), max(start, 0), h.DimSize, h.ElementType, need)
		}
		return start, need, nil
	}
	csize = size - start
	if h.CompressedSize >= 0 {
		if h.HeaderSize == -1 {
			start = size - h.CompressedSize
		}
		csize = h.CompressedSize
	}
	if start < 0 || csize < 0 || start+csize > size {
		return 0, 0, source.Formatf(h.Path, "data file %s of %d bytes cannot hold %d compressed bytes from offset %d",
			h.DataFile, size, csize, start)
	}
	if csize*maxDeflateRatio < need {
		return 0, 0, source.Formatf(h.Path, "data file %s holds %d compressed bytes, which cannot expand to the %d that DimSize %v of %s needs (truncated?)",
			h.DataFile, csize, need, h.DimSize, h.ElementType)
	}
	return start, csize, nil
}

// checkData fails, before the image's memory is allocated, when the data
// file cannot hold the image, so a header that claims billions of voxels
// over a small file costs an error, not gigabytes.
func (h *Header) checkData() error {
	st, err := os.Stat(h.DataFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return source.Formatf(h.Path, "data file %s does not exist", h.DataFile)
		}
		return source.Formatf(h.Path, "data file: %w", err)
	}
	_, _, err = h.dataRange(st.Size(), int64(h.Voxels()*h.ElementSize()))
	return err
}

// DecodeData fills dst with the image's raw element bytes in file order,
// read from the data file's content f of size bytes (for LOCAL data, the
// header file itself). It handles HeaderSize, −1 included, and zlib or
// gzip compression.
func (h *Header) DecodeData(f io.ReaderAt, size int64, dst []byte) error {
	need := int64(len(dst))
	start, csize, err := h.dataRange(size, need)
	if err != nil {
		return err
	}
	if !h.Compressed {
		if _, err := f.ReadAt(dst, start); err != nil {
			return source.Formatf(h.Path, "reading %s: %w", h.DataFile, err)
		}
		return nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, csize), 1<<16)
	magic, _ := br.Peek(2)
	var dec io.Reader
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		dec, err = gzip.NewReader(br)
	} else {
		dec, err = zlib.NewReader(br)
	}
	if err != nil {
		return source.Formatf(h.Path, "data file %s is not a zlib or gzip stream: %w", h.DataFile, err)
	}
	n, err := io.ReadFull(dec, dst)
	if err != nil {
		return source.Formatf(h.Path, "data file %s decompresses to %d bytes, but DimSize %v of %s needs %d: %w",
			h.DataFile, n, h.DimSize, h.ElementType, need, err)
	}
	return nil
}
