package mine

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"voxmine/query"
)

// DType is the element type of written patches.
type DType string

// The patch types: the notebook's float16, float32, or raw int16 HU.
const (
	F16 DType = "f16"
	F32 DType = "f32"
	I16 DType = "i16"
	// U8 is the type of label cubes written beside patches (not a patch type).
	U8 DType = "u8"
)

// Size returns the bytes per voxel.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case U8:
		return 1
	default:
		return 2
	}
}

// descr is NumPy's type string.
func (d DType) descr() string {
	return map[DType]string{F16: "<f2", F32: "<f4", I16: "<i2", U8: "|u1"}[d]
}

// ParseDType reads f16, f32 or i16.
func ParseDType(s string) (DType, error) {
	switch d := DType(s); d {
	case F16, F32, I16:
		return d, nil
	}
	return "", fmt.Errorf("dtype %q: want f16, f32 or i16", s)
}

// NPYHeader returns the NumPy format 1.0 preamble for a C-order array of
// the given type and shape: magic, version, header length, and the
// dictionary padded with spaces so the data starts at a multiple of 64.
func NPYHeader(d DType, shape ...int) []byte {
	dims := make([]string, len(shape))
	for i, n := range shape {
		dims[i] = fmt.Sprint(n)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", d.descr(), tuple)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n')
}

// Window maps HU to patch values: (clip(HU, Lo, Hi) − Lo) / (Hi − Lo),
// computed in float64 as NumPy does and rounded once to the output type.
// For int16 output it is the identity.
type Window struct {
	Lo, Hi float64
	DType  DType
	// The encoded value of every int16, indexed by its bits: a lookup per
	// voxel instead of a division and a rounding.
	lut16 []uint16 // F16
	lut32 []uint32 // F32
}

// NewWindow precomputes the encoded value of every HU. Only the values
// inside the window are computed one by one (1401 for the default window);
// the rest take the value of the edge they clip to.
func NewWindow(lo, hi float64, d DType) (*Window, error) {
	if !(lo < hi) {
		return nil, fmt.Errorf("window %v,%v: the minimum must be below the maximum", lo, hi)
	}
	if lo < math.MinInt16 || hi > math.MaxInt16 {
		return nil, fmt.Errorf("window %v,%v: outside the int16 range", lo, hi)
	}
	w := &Window{Lo: lo, Hi: hi, DType: d}
	if d == I16 {
		return w, nil
	}
	value := func(hu int) float64 { return query.Window(float64(hu), lo, hi) }
	// HU values at or beyond the edges clip to the edges.
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	n := 1 << 16
	switch d {
	case F16:
		w.lut16 = make([]uint16, n)
		below, above := Float16(value(math.MinInt16)), Float16(value(math.MaxInt16))
		for hu := math.MinInt16; hu <= math.MaxInt16; hu++ {
			v := below
			switch {
			case hu > last:
				v = above
			case hu >= first:
				v = Float16(value(hu))
			}
			w.lut16[uint16(int16(hu))] = v
		}
	default:
		w.lut32 = make([]uint32, n)
		for hu := math.MinInt16; hu <= math.MaxInt16; hu++ {
			w.lut32[uint16(int16(hu))] = math.Float32bits(float32(value(hu)))
		}
	}
	return w, nil
}

// Encode appends the patch's little-endian encoding to dst.
func (w *Window) Encode(dst []byte, hu []int16) []byte {
	start := len(dst)
	dst = slices.Grow(dst, len(hu)*w.DType.Size())[:start+len(hu)*w.DType.Size()]
	out := dst[start:]
	switch w.DType {
	case I16:
		for i, v := range hu {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		}
	case F16:
		lut := w.lut16
		out = out[:2*len(hu)]
		for i, v := range hu {
			binary.LittleEndian.PutUint16(out[2*i:2*i+2], lut[uint16(v)])
		}
	default:
		lut := w.lut32
		for i, v := range hu {
			binary.LittleEndian.PutUint32(out[4*i:], lut[uint16(v)])
		}
	}
	return dst
}

// Float16 converts a float64 to IEEE 754 binary16 with one rounding, to
// nearest with ties to even, as NumPy's astype(np.float16) does.
func Float16(f float64) uint16 {
	b := math.Float64bits(f)
	sign := uint16(b>>48) & 0x8000
	exp := int(b>>52&0x7ff) - 1023
	mant := b & (1<<52 - 1)
	switch {
	case math.IsNaN(f):
		return sign | 0x7e00
	case exp > 15: // too large, or infinite
		return sign | 0x7c00
	case exp >= -14: // normal half
		m := mant >> 42
		rest := mant & (1<<42 - 1)
		h := uint32(exp+15)<<10 | uint32(m)
		if rest > 1<<41 || rest == 1<<41 && m&1 == 1 {
			h++ // may carry into the exponent, which is right
		}
		if h >= 0x7c00 {
			return sign | 0x7c00
		}
		return sign | uint16(h)
	case exp >= -25: // subnormal half: value = m × 2⁻²⁴
		full := mant | 1<<52 // the implicit bit
		shift := uint(42 + (-14 - exp))
		m := full >> shift
		rest := full & (1<<shift - 1)
		half := uint64(1) << (shift - 1)
		if rest > half || rest == half && m&1 == 1 {
			m++
		}
		return sign | uint16(m)
	default:
		return sign
	}
}

// writeNPY writes one array: header then data.
func writeNPY(w io.Writer, d DType, data []byte, shape ...int) error {
	if _, err := w.Write(NPYHeader(d, shape...)); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
