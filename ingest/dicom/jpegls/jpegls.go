// Package jpegls decodes JPEG-LS (ITU-T T.87 | ISO/IEC 14495-1), the
// transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless) and .81
// (near-lossless) of DICOM: one grey component of 2 to 16 bits, with the
// default or given (LSE) thresholds and any NEAR.
//
// Several components, palettes and mapping tables (LSE types 2–4) are
// refused with an error wrapping ErrUnsupported.
package jpegls

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnsupported marks JPEG-LS data this package does not decode.
var ErrUnsupported = errors.New("not supported")

// Image is a decoded single-component image.
type Image struct {
	Width, Height int
	Precision     int
	Pix           []uint16
}

// params are the coding parameters (T.87 C.2.4.1.1 and A.2.1).
type params struct {
	maxval, t1, t2, t3, reset int
}

// Decode decodes a JPEG-LS image of at most maxSamples samples.
func Decode(b []byte, maxSamples int) (*Image, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("not a JPEG-LS image (no SOI marker)")
	}
	var img *Image
	var p params
	pos := 2
	for {
		for pos+1 < len(b) && b[pos] == 0xFF && b[pos+1] == 0xFF {
			pos++
		}
		if pos+4 > len(b) || b[pos] != 0xFF {
			return nil, errors.New("the image ends before its scan")
		}
		m := b[pos+1]
		n := int(binary.BigEndian.Uint16(b[pos+2:]))
		if n < 2 || pos+2+n > len(b) {
			return nil, fmt.Errorf("marker FF%02X: bad length %d", m, n)
		}
		seg := b[pos+4 : pos+2+n]
		pos += 2 + n
		switch m {
		case 0xF7: // SOF55
			if len(seg) < 9 {
				return nil, errors.New("SOF55: truncated")
			}
			prec, h, w, nf := int(seg[0]), int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
			switch {
			case nf != 1:
				return nil, fmt.Errorf("%d components: %w", nf, ErrUnsupported)
			case prec < 2 || prec > 16:
				return nil, fmt.Errorf("SOF55: %d-bit samples", prec)
			case w == 0 || h == 0 || w*h > maxSamples:
				return nil, fmt.Errorf("SOF55: %d×%d samples (at most %d expected)", w, h, maxSamples)
			case seg[7] != 0x11:
				return nil, fmt.Errorf("sampling factors: %w", ErrUnsupported)
			}
			img = &Image{Width: w, Height: h, Precision: prec, Pix: make([]uint16, w*h)}
		case 0xF8: // LSE
			if len(seg) < 1 {
				return nil, errors.New("LSE: truncated")
			}
			if seg[0] != 1 {
				return nil, fmt.Errorf("LSE type %d (mapping tables): %w", seg[0], ErrUnsupported)
			}
			if len(seg) < 11 {
				return nil, errors.New("LSE: truncated")
			}
			u := func(k int) int { return int(binary.BigEndian.Uint16(seg[1+2*k:])) }
			p = params{maxval: u(0), t1: u(1), t2: u(2), t3: u(3), reset: u(4)}
		case 0xDA: // SOS
			if img == nil {
				return nil, errors.New("scan before the frame header (SOF55)")
			}
			if len(seg) < 6 || seg[0] != 1 {
				return nil, fmt.Errorf("a scan of several components: %w", ErrUnsupported)
			}
			near, ilv := int(seg[3]), seg[4]
			if ilv != 0 {
				return nil, fmt.Errorf("interleave mode %d with one component", ilv)
			}
			if seg[5]&15 != 0 {
				return nil, fmt.Errorf("point transform %d: %w", seg[5]&15, ErrUnsupported)
			}
			q, err := p.complete(img.Precision, near)
			if err != nil {
				return nil, err
			}
			if err := decodeScan(img, q, near, b[pos:]); err != nil {
				return nil, err
			}
			return img, nil
		case 0xD8, 0xD9:
			return nil, errors.New("end of image before a scan")
		default:
			if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
				return nil, fmt.Errorf("a JPEG frame (SOF%d), not JPEG-LS: %w", m-0xC0, ErrUnsupported)
			}
			// APPn, COM: not needed
		}
	}
}

// complete fills in the defaults (C.2.4.1.1) of the parameters not given.
func (p params) complete(prec, near int) (params, error) {
	if p.maxval == 0 {
		p.maxval = 1<<prec - 1
	}
	if p.reset == 0 {
		p.reset = 64
	}
	if near < 0 || near > min(255, p.maxval/2) {
		return p, fmt.Errorf("NEAR %d with MAXVAL %d", near, p.maxval)
	}
	clamp := func(i, j int) int {
		if i > p.maxval || i < j {
			return j
		}
		return i
	}
	var t1, t2, t3 int
	if p.maxval >= 128 {
		f := (min(p.maxval, 4095) + 128) / 256
		t1 = clamp(f*(3-2)+2+3*near, near+1)
		t2 = clamp(f*(7-3)+3+5*near, t1)
		t3 = clamp(f*(21-4)+4+7*near, t2)
	} else {
		f := 256 / (p.maxval + 1)
		t1 = clamp(max(2, 3/f+3*near), near+1)
		t2 = clamp(max(3, 7/f+5*near), t1)
		t3 = clamp(max(4, 21/f+7*near), t2)
	}
	if p.t1 == 0 {
		p.t1 = t1
	}
	if p.t2 == 0 {
		p.t2 = t2
	}
	if p.t3 == 0 {
		p.t3 = t3
	}
	if p.reset < 3 || !(near < p.t1 && p.t1 <= p.t2 && p.t2 <= p.t3 && p.t3 <= p.maxval) {
		return p, fmt.Errorf("thresholds %d, %d, %d and RESET %d for MAXVAL %d, NEAR %d", p.t1, p.t2, p.t3, p.reset, p.maxval, near)
	}
	return p, nil
}
