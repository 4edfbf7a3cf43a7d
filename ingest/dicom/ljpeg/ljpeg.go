// Package ljpeg decodes lossless JPEG (ITU-T T.81 | ISO/IEC 10918-1,
// Annex H: the SOF3 process with Huffman coding), the "JPEG lossless"
// of DICOM's transfer syntaxes 1.2.840.10008.1.2.4.57 and .70 (first-order
// prediction, SV1) in which many archives store CT: one grey component of
// 2 to 16 bits, any of the seven predictors, a point transform, restart
// intervals.
//
// Lossy JPEG (baseline, extended, progressive), arithmetic coding,
// hierarchical mode and several components are refused with an error
// wrapping ErrUnsupported.
package ljpeg

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnsupported marks JPEG data this package does not decode.
var ErrUnsupported = errors.New("not supported")

// Image is a decoded single-component image: Pix holds each sample's bit
// pattern (Precision bits, shifted left by the point transform).
type Image struct {
	Width, Height int
	Precision     int
	Pix           []uint16
}

// Decode decodes a lossless JPEG image of at most maxSamples samples.
func Decode(b []byte, maxSamples int) (*Image, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("not a JPEG image (no SOI marker)")
	}
	d := &decoder{}
	pos := 2
	for {
		// A marker, after any fill bytes.
		for pos < len(b) && b[pos] != 0xFF {
			pos++ // tolerated garbage between segments
		}
		for pos+1 < len(b) && b[pos+1] == 0xFF {
			pos++
		}
		if pos+2 > len(b) {
			return nil, errors.New("the image ends before its scan")
		}
		m := b[pos+1]
		pos += 2
		switch {
		case m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01:
			continue // markers without a segment
		case m == 0xD9:
			return nil, errors.New("end of image before a scan")
		}
		if pos+2 > len(b) {
			return nil, fmt.Errorf("marker FF%02X: truncated", m)
		}
		n := int(binary.BigEndian.Uint16(b[pos:]))
		if n < 2 || pos+n > len(b) {
			return nil, fmt.Errorf("marker FF%02X: bad length %d", m, n)
		}
		seg := b[pos+2 : pos+n]
		pos += n
		switch m {
		case 0xC3:
			if err := d.frame(seg, maxSamples); err != nil {
				return nil, err
			}
		case 0xC0, 0xC1, 0xC2:
			return nil, fmt.Errorf("lossy JPEG (SOF%d): %w", m-0xC0, ErrUnsupported)
		case 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return nil, fmt.Errorf("JPEG process SOF%d (hierarchical or arithmetic coding): %w", m-0xC0, ErrUnsupported)
		case 0xC4:
			if err := d.huffman(seg); err != nil {
				return nil, err
			}
		case 0xCC:
			return nil, fmt.Errorf("arithmetic coding conditioning (DAC): %w", ErrUnsupported)
		case 0xDD:
			if len(seg) < 2 {
				return nil, errors.New("DRI: truncated")
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case 0xDA:
			if d.img == nil {
				return nil, errors.New("scan before the frame header (SOF3)")
			}
			if err := d.scan(seg, b[pos:]); err != nil {
				return nil, err
			}
			return d.img, nil
		default:
			// APPn, COM, DQT, DNL: not needed
		}
	}
}

type decoder struct {
	img     *Image
	tables  [4]*huffTable
	restart int
}

func (d *decoder) frame(seg []byte, maxSamples int) error {
	if len(seg) < 6 {
		return errors.New("SOF3: truncated")
	}
	p, h, w, nf := int(seg[0]), int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
	switch {
	case nf != 1:
		return fmt.Errorf("%d components: %w", nf, ErrUnsupported)
	case p < 2 || p > 16:
		return fmt.Errorf("SOF3: %d-bit samples", p)
	case w == 0 || h == 0:
		return fmt.Errorf("SOF3: %d×%d samples (a height given later by DNL is not read)", w, h)
	case w*h > maxSamples:
		return fmt.Errorf("SOF3: %d×%d samples, more than the %d expected", w, h, maxSamples)
	case len(seg) < 9:
		return errors.New("SOF3: truncated")
	case seg[7] != 0x11:
		return fmt.Errorf("sampling factors %d×%d: %w", seg[7]>>4, seg[7]&15, ErrUnsupported)
	}
	d.img = &Image{Width: w, Height: h, Precision: p, Pix: make([]uint16, w*h)}
	return nil
}

// huffTable is a Huffman table (Annex C): a lookup of codes up to
// lookBits long, and the canonical code limits for the longer ones.
type huffTable struct {
	look    [1 << lookBits]uint16 // length << 8 | value, 0 for longer codes
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
}

const lookBits = 9

func (d *decoder) huffman(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return errors.New("DHT: truncated")
		}
		class, id := seg[0]>>4, seg[0]&15
		if class != 0 || id > 3 {
			return fmt.Errorf("DHT: table class %d, id %d", class, id)
		}
		t := &huffTable{}
		n := 0
		var counts [17]int
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			n += counts[l]
		}
		if n > 256 || len(seg) < 17+n {
			return errors.New("DHT: truncated or too many codes")
		}
		t.vals = append([]uint8(nil), seg[17:17+n]...)
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			t.valptr[l], t.mincode[l] = k, code
			for range counts[l] {
				if code >= 1<<l {
					return errors.New("DHT: the code lengths overflow")
				}
				if l <= lookBits {
					// every lookBits-bit word that starts with this code
					shift := lookBits - l
					for f := code << shift; f < (code+1)<<shift; f++ {
						t.look[f] = uint16(l)<<8 | uint16(t.vals[k])
					}
				}
				code++
				k++
			}
			t.maxcode[l] = code - 1
			if counts[l] == 0 {
				t.maxcode[l] = -1
			}
			code <<= 1
		}
		t.maxcode[17] = 1 << 30
		d.tables[id] = t
		seg = seg[17+n:]
	}
	return nil
}

// bitReader reads the entropy-coded data: bytes of 0xFF carry a stuffed
// 0x00, and a marker ends the data (zeros are read past it).
type bitReader struct {
	b      []byte
	pos    int
	acc    uint64
	n      int
	marker bool
}

func (r *bitReader) fill() {
	for r.n <= 56 {
		var c byte
		if !r.marker && r.pos < len(r.b) {
			c = r.b[r.pos]
			if c == 0xFF {
				if r.pos+1 < len(r.b) && r.b[r.pos+1] == 0x00 {
					r.pos += 2
				} else {
					r.marker, c = true, 0 // a marker: stop before it
				}
			} else {
				r.pos++
			}
		}
		r.acc |= uint64(c) << (56 - r.n)
		r.n += 8
	}
}

func (r *bitReader) bits(k int) int {
	if k == 0 {
		return 0
	}
	if r.n < k {
		r.fill()
	}
	v := int(r.acc >> (64 - k))
	r.acc <<= k
	r.n -= k
	return v
}

// decode reads one Huffman-coded value.
func (r *bitReader) decode(t *huffTable) (int, error) {
	if r.n < 16 {
		r.fill()
	}
	if e := t.look[r.acc>>(64-lookBits)]; e != 0 {
		l := int(e >> 8)
		r.acc <<= l
		r.n -= l
		return int(e & 0xFF), nil
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(r.acc>>63)
		r.acc <<= 1
		r.n--
		if code <= t.maxcode[l] {
			return int(t.vals[t.valptr[l]+code-t.mincode[l]]), nil
		}
	}
	return 0, errors.New("a Huffman code of more than 16 bits (corrupt data)")
}

// restartAt moves past the RSTn marker that ends a restart interval.
func (r *bitReader) restartAt() error {
	r.acc, r.n, r.marker = 0, 0, false
	for r.pos < len(r.b) && r.b[r.pos] == 0xFF && r.pos+1 < len(r.b) && r.b[r.pos+1] == 0xFF {
		r.pos++ // fill bytes
	}
	if r.pos+1 >= len(r.b) || r.b[r.pos] != 0xFF || r.b[r.pos+1] < 0xD0 || r.b[r.pos+1] > 0xD7 {
		return errors.New("a restart marker is missing (corrupt data)")
	}
	r.pos += 2
	return nil
}

func (d *decoder) scan(seg, data []byte) error {
	if len(seg) < 6 || seg[0] != 1 {
		return fmt.Errorf("SOS: %w: a scan of several components", ErrUnsupported)
	}
	td := int(seg[2] >> 4)
	if td > 3 || d.tables[td] == nil {
		return fmt.Errorf("SOS: Huffman table %d not defined", td)
	}
	t := d.tables[td]
	ps, pt := int(seg[3]), int(seg[5]&15)
	img := d.img
	if ps < 1 || ps > 7 {
		return fmt.Errorf("SOS: predictor %d (lossless JPEG has 1 to 7)", ps)
	}
	if pt >= img.Precision {
		return fmt.Errorf("SOS: point transform %d of %d-bit samples", pt, img.Precision)
	}
	w, h := img.Width, img.Height
	r := &bitReader{b: data}
	// Reconstructed values before the point transform, one row and the
	// row above.
	row, above := make([]int32, w), make([]int32, w)
	first := int32(1) << (img.Precision - pt - 1)
	const mask = 0xFFFF
	count := 0
	fresh := true // the first line of the scan or of a restart interval
	for y := range h {
		for x := range w {
			if d.restart > 0 && count > 0 && count%d.restart == 0 {
				if err := r.restartAt(); err != nil {
					return err
				}
				fresh = true
			}
			count++
			s, err := r.decode(t)
			if err != nil {
				return err
			}
			var diff int32
			switch {
			case s == 16:
				diff = 32768
			case s > 16:
				return fmt.Errorf("a difference category of %d (corrupt data)", s)
			case s > 0:
				v := int32(r.bits(s))
				if v < 1<<(s-1) {
					v += -1<<s + 1
				}
				diff = v
			}
			var pred int32
			switch {
			case fresh && x == 0:
				pred = first
			case fresh || y == 0:
				pred = row[x-1] // the first line: Ra
			case x == 0:
				pred = above[0] // the first column: Rb
			default:
				ra, rb, rc := row[x-1], above[x], above[x-1]
				switch ps {
				case 1:
					pred = ra
				case 2:
					pred = rb
				case 3:
					pred = rc
				case 4:
					pred = ra + rb - rc
				case 5:
					pred = ra + (rb-rc)>>1
				case 6:
					pred = rb + (ra-rc)>>1
				case 7:
					pred = (ra + rb) >> 1
				}
			}
			v := (pred + diff) & mask
			row[x] = v
			img.Pix[y*w+x] = uint16(v << pt)
		}
		fresh = false
		row, above = above, row
	}
	return nil
}
