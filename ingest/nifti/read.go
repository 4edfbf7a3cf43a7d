package nifti

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"

	"voxmine/ingest/source"
)

// ReadCT reads a NIfTI volume as int16 HU, z, y, x order: stored values
// times scl_slope plus scl_inter when scl_slope is not 0, rounded to the
// nearest integer (ties to even) like voxmine's MetaImage reader; a value
// outside the int16 range is an error.
func ReadCT(path string) (*Header, []int16, error) {
	f, size, closeFn, err := open(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	return DecodeCT(f, size, path)
}

// DecodeCT is ReadCT on the bytes of a .nii or .nii.gz file read from r;
// size is their number (or −1 when unknown), name names them in errors.
func DecodeCT(r io.Reader, size int64, name string) (*Header, []int16, error) {
	path := name
	r, bound, err := inflate(r, size, name)
	if err != nil {
		return nil, nil, err
	}
	h, err := DecodeHeader(r, name)
	if err != nil {
		return nil, nil, err
	}
	raw, out, err := h.readCT(r, bound)
	if err != nil || out != nil {
		return h, out, err
	}
	vals := values(h, raw)
	out = make([]int16, h.Voxels())
	for i := range out {
		v := math.RoundToEven(h.scale(vals(i)))
		if !(v >= math.MinInt16 && v <= math.MaxInt16) {
			return nil, nil, source.Formatf(path, "value %v at voxel %d does not fit int16 HU", h.scale(vals(i)), i)
		}
		out[i] = int16(v)
	}
	return h, out, nil
}

// ReadLabels reads a NIfTI label volume as uint8; values must be whole
// numbers in 0…255 (after scaling).
func ReadLabels(path string) (*Header, []uint8, error) {
	f, size, closeFn, err := open(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	h, raw, err := decode(f, size, path)
	if err != nil {
		return nil, nil, err
	}
	vals := values(h, raw)
	out := make([]uint8, h.Voxels())
	for i := range out {
		v := h.scale(vals(i))
		if !(v >= 0 && v <= 255 && v == math.Trunc(v)) {
			return nil, nil, source.Formatf(path, "label %v at voxel %d is not a whole number in 0…255", v, i)
		}
		out[i] = uint8(v)
	}
	return h, out, nil
}

func (h *Header) scale(v float64) float64 {
	if h.Slope == 0 {
		return v
	}
	return v*h.Slope + h.Inter
}

// readCT reads the voxel data after the header. For 16- and 32-bit
// integers with integral scaling (the usual CT: none, or slope 1 and
// intercept −1024) it converts them to HU block by block as they inflate,
// without float64, and returns them as out; the gzip reader inflates the
// next blocks meanwhile. Other data it returns raw for the general path.
func (h *Header) readCT(r io.Reader, bound int64) (raw []byte, out []int16, err error) {
	slope, inter := h.Slope, h.Inter
	if slope == 0 {
		slope, inter = 1, 0
	}
	size := datatypes[h.Datatype].size
	fast := (h.Datatype == 4 || h.Datatype == 512 || h.Datatype == 8) && slope == math.Trunc(slope) &&
		inter == math.Trunc(inter) && math.Abs(slope) <= 1<<15 && math.Abs(inter) <= 1<<16
	if !fast {
		raw, err = h.readData(r, bound)
		return raw, nil, err
	}
	if err := h.skipToData(r); err != nil {
		return nil, nil, err
	}
	need := int64(h.Voxels()) * int64(size)
	if bound >= 0 && bound-h.VoxOffset < need {
		return nil, nil, source.Formatf(h.Path, "image data holds at most %d bytes, but dim %v of %s needs %d (truncated?)", max(0, bound-h.VoxOffset), h.Dim, h.ElementType(), need)
	}
	const block = 1 << 20 // voxels
	buf := make([]byte, min(int64(block*size), need))
	s, c := int64(slope), int64(inter)
	o := h.order
	for at := 0; at < h.Voxels(); at += block {
		n := min(block, h.Voxels()-at)
		if got, err := io.ReadFull(r, buf[:n*size]); err != nil {
			return nil, nil, source.Formatf(h.Path, "image data holds %d bytes, but dim %v of %s needs %d (truncated?)", int64(at*size+got), h.Dim, h.ElementType(), need)
		}
		if out == nil {
			out = make([]int16, h.Voxels())
		}
		dst := out[at : at+n]
		for i := range dst {
			var v int64
			switch h.Datatype {
			case 4:
				v = int64(int16(o.Uint16(buf[2*i:])))
			case 512:
				v = int64(o.Uint16(buf[2*i:]))
			default:
				v = int64(int32(o.Uint32(buf[4*i:])))
			}
			v = v*s + c
			if v < math.MinInt16 || v > math.MaxInt16 {
				return nil, nil, source.Formatf(h.Path, "value %d at voxel %d does not fit int16 HU", v, at+i)
			}
			dst[i] = int16(v)
		}
	}
	return nil, out, nil
}

// decode reads the header and the raw voxel bytes.
func decode(f io.Reader, size int64, path string) (*Header, []byte, error) {
	r, size, err := inflate(f, size, path)
	if err != nil {
		return nil, nil, err
	}
	h, err := DecodeHeader(r, path)
	if err != nil {
		return nil, nil, err
	}
	raw, err := h.readData(r, size)
	if err != nil {
		return nil, nil, err
	}
	return h, raw, nil
}

// values decodes element i of raw in the header's datatype and byte order.
func values(h *Header, raw []byte) func(i int) float64 {
	o := h.order
	switch h.Datatype {
	case 2:
		return func(i int) float64 { return float64(raw[i]) }
	case 256:
		return func(i int) float64 { return float64(int8(raw[i])) }
	case 4:
		return func(i int) float64 { return float64(int16(o.Uint16(raw[2*i:]))) }
	case 512:
		return func(i int) float64 { return float64(o.Uint16(raw[2*i:])) }
	case 8:
		return func(i int) float64 { return float64(int32(o.Uint32(raw[4*i:]))) }
	case 768:
		return func(i int) float64 { return float64(o.Uint32(raw[4*i:])) }
	case 1024:
		return func(i int) float64 { return float64(int64(o.Uint64(raw[8*i:]))) }
	case 1280:
		return func(i int) float64 { return float64(o.Uint64(raw[8*i:])) }
	case 16:
		return func(i int) float64 { return float64(math.Float32frombits(o.Uint32(raw[4*i:]))) }
	default: // 64, the only other datatype DecodeHeader accepts
		return func(i int) float64 { return math.Float64frombits(o.Uint64(raw[8*i:])) }
	}
}

// Format is NIfTI as a source.Format: a scan is a .nii or .nii.gz file
// whose name, less the extension, is the series uid.
type Format struct{}

var _ source.Format = Format{}

// Name returns "nifti".
func (Format) Name() string { return "nifti" }

// UID returns the series uid of a NIfTI file name, or "" when the name is
// not a NIfTI file's.
func UID(path string) string {
	base := filepath.Base(path)
	lower := strings.ToLower(base)
	for _, ext := range []string{".nii.gz", ".nii"} {
		if strings.HasSuffix(lower, ext) && len(base) > len(ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return ""
}

// Find takes every .nii and .nii.gz file.
func (Format) Find(ctx context.Context, files []string) (source.Found, error) {
	var f source.Found
	for _, p := range files {
		if uid := UID(p); uid != "" {
			f.Scans = append(f.Scans, source.Scan{UID: uid, Format: "nifti", Files: []string{p}})
			f.Used = append(f.Used, p)
		}
	}
	return f, ctx.Err()
}

func (h *Header) info() (*source.Info, error) {
	g, err := h.Geometry()
	if err != nil {
		return nil, err
	}
	return &source.Info{Geometry: g, ElementType: h.ElementType(), Files: []string{h.Path}}, nil
}

// Info reads the header.
func (Format) Info(ctx context.Context, s source.Scan) (*source.Info, error) {
	h, err := ReadHeader(s.Path())
	if err != nil {
		return nil, err
	}
	return h.info()
}

// ReadCT reads the scan as HU.
func (Format) ReadCT(ctx context.Context, s source.Scan) (*source.Info, []int16, error) {
	h, hu, err := ReadCT(s.Path())
	if err != nil {
		return nil, nil, err
	}
	info, err := h.info()
	return info, hu, err
}

// ReadLabels reads a label volume.
func (Format) ReadLabels(ctx context.Context, s source.Scan) (*source.Info, []uint8, error) {
	h, m, err := ReadLabels(s.Path())
	if err != nil {
		return nil, nil, err
	}
	info, err := h.info()
	return info, m, err
}
