package j2k

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnsupported marks codestreams that use a part of JPEG 2000 this
// package does not decode.
var ErrUnsupported = errors.New("not supported")

// Image is a decoded single-component image.
type Image struct {
	Width, Height int
	Precision     int  // bits per sample
	Signed        bool // samples are two's complement
	Pix           []int32
}

// Markers.
const (
	mSOC = 0xFF4F
	mSIZ = 0xFF51
	mCOD = 0xFF52
	mCOC = 0xFF53
	mTLM = 0xFF55
	mPLM = 0xFF57
	mPLT = 0xFF58
	mQCD = 0xFF5C
	mQCC = 0xFF5D
	mRGN = 0xFF5E
	mPOC = 0xFF5F
	mPPM = 0xFF60
	mPPT = 0xFF61
	mCRG = 0xFF63
	mCOM = 0xFF64
	mSOT = 0xFF90
	mSOP = 0xFF91
	mEPH = 0xFF92
	mSOD = 0xFF93
	mEOC = 0xFFD9
)

// siz is the image and tile geometry (the SIZ marker).
type siz struct {
	x1, y1, x0, y0         int // image area on the reference grid
	tw, th, tx0, ty0       int // tile size and origin
	prec                   int
	signed                 bool
	dx, dy                 int // subsampling of the component
	tilesAcross, tilesDown int
}

// cod is a coding style (COD, or COC for the component).
type cod struct {
	sop, eph   bool
	order      int // progression order: 0 LRCP, 1 RLCP, 2 RPCL, 3 PCRL, 4 CPRL
	layers     int
	levels     int // decomposition levels
	xcb, ycb   int // code-block size exponents
	style      byte
	reversible bool
	ppx, ppy   []int // precinct size exponents per resolution
}

// qcd is a quantization (QCD, or QCC for the component): a guard bit
// count and an exponent per subband, LL first, then HL, LH, HH of each
// level from the lowest resolution up.
type qcd struct {
	guard   int
	derived bool  // one step size given, for LL; the others derived from it (E.1.1.2)
	expn    []int // exponent ε per subband
	mant    []int // mantissa μ per subband (11 bits)
}

// Code-block styles.
const (
	styleBypass  = 0x01
	styleReset   = 0x02
	styleTermAll = 0x04
	styleCausal  = 0x08
	styleSegSym  = 0x20
)

// reader reads big-endian fields of a marker segment.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) u8() int {
	if r.pos+1 > len(r.b) {
		r.err = errors.New("truncated marker segment")
		return 0
	}
	r.pos++
	return int(r.b[r.pos-1])
}

func (r *reader) u16() int { return r.u8()<<8 | r.u8() }
func (r *reader) u32() int { return r.u16()<<16 | r.u16() }

// Decode decodes a JPEG 2000 codestream (it starts with the SOC marker),
// or the codestream of a JP2 file, of at most 2^26 samples.
func Decode(b []byte) (*Image, error) { return DecodeLimited(b, 1<<26) }

// DecodeLimited is Decode for an image of at most maxSamples samples: a
// DICOM slice's codestream may not hold more than its Rows × Columns, and
// a corrupt size field must not make the decoder allocate gigabytes.
func DecodeLimited(b []byte, maxSamples int) (*Image, error) {
	if cs, ok := jp2Codestream(b); ok {
		b = cs // a JP2 file, as some encoders put into DICOM
	}
	if len(b) < 4 || binary.BigEndian.Uint16(b) != mSOC || binary.BigEndian.Uint16(b[2:]) != mSIZ {
		return nil, errors.New("not a JPEG 2000 codestream (no SOC and SIZ markers)")
	}
	d := &decoder{maxSamples: maxSamples}
	pos := 2
	// The main header: marker segments up to the first tile-part.
	for {
		if pos+4 > len(b) {
			return nil, errors.New("main header: truncated")
		}
		m := int(binary.BigEndian.Uint16(b[pos:]))
		if m == mSOT {
			break
		}
		n := int(binary.BigEndian.Uint16(b[pos+2:]))
		if n < 2 || pos+2+n > len(b) {
			return nil, fmt.Errorf("main header: marker %04X at %d: bad length %d", m, pos, n)
		}
		if err := d.marker(m, b[pos+4:pos+2+n], true); err != nil {
			return nil, fmt.Errorf("main header: %w", err)
		}
		pos += 2 + n
	}
	if d.siz == nil || d.cod == nil || d.qcd == nil {
		return nil, errors.New("main header: SIZ, COD or QCD missing")
	}
	// Tile-parts: each tile's data, its parts joined in order.
	tiles := make([][]byte, d.siz.tilesAcross*d.siz.tilesDown)
	tileCOD := make([]*cod, len(tiles))
	tileQCD := make([]*qcd, len(tiles))
	for pos+2 <= len(b) && binary.BigEndian.Uint16(b[pos:]) == mSOT {
		if pos+12 > len(b) {
			return nil, errors.New("tile-part header: truncated")
		}
		start := pos
		r := &reader{b: b[pos+4 : pos+12]}
		t, psot := r.u16(), r.u32()
		if t >= len(tiles) {
			return nil, fmt.Errorf("tile-part at %d: tile %d of %d", pos, t, len(tiles))
		}
		end := len(b)
		if psot != 0 {
			end = start + psot
		} else if end >= 2 && binary.BigEndian.Uint16(b[end-2:]) == mEOC {
			end -= 2
		}
		if end > len(b) || end < start+14 {
			return nil, fmt.Errorf("tile-part at %d: length %d runs past the codestream", start, psot)
		}
		pos += 12
		// Tile-part header markers up to SOD.
		td := &decoder{siz: d.siz, cod: d.cod, qcd: d.qcd, maxSamples: d.maxSamples}
		if tileCOD[t] != nil {
			td.cod, td.qcd = tileCOD[t], tileQCD[t]
		}
		for {
			if pos+2 > end {
				return nil, fmt.Errorf("tile-part at %d: no SOD", start)
			}
			m := int(binary.BigEndian.Uint16(b[pos:]))
			if m == mSOD {
				pos += 2
				break
			}
			if pos+4 > end {
				return nil, fmt.Errorf("tile-part at %d: truncated", start)
			}
			n := int(binary.BigEndian.Uint16(b[pos+2:]))
			if n < 2 || pos+2+n > end {
				return nil, fmt.Errorf("tile-part at %d: marker %04X: bad length %d", start, m, n)
			}
			if err := td.marker(m, b[pos+4:pos+2+n], false); err != nil {
				return nil, fmt.Errorf("tile %d: %w", t, err)
			}
			pos += 2 + n
		}
		tileCOD[t], tileQCD[t] = td.cod, td.qcd
		tiles[t] = append(tiles[t], b[pos:end]...)
		pos = end
	}
	s := d.siz
	img := &Image{Width: s.x1 - s.x0, Height: s.y1 - s.y0, Precision: s.prec, Signed: s.signed}
	if s.dx != 1 || s.dy != 1 {
		return nil, fmt.Errorf("component subsampled %d×%d: %w", s.dx, s.dy, ErrUnsupported)
	}
	img.Pix = make([]int32, img.Width*img.Height)
	for t := range tiles {
		c, q := d.cod, d.qcd
		if tileCOD[t] != nil {
			c, q = tileCOD[t], tileQCD[t]
		}
		if err := decodeTile(img, s, c, q, t, tiles[t]); err != nil {
			return nil, fmt.Errorf("tile %d: %w", t, err)
		}
	}
	return img, nil
}

// jp2Codestream returns the contiguous codestream box (jp2c) of a JP2
// file (ISO/IEC 15444-1 Annex I), and whether b is one.
func jp2Codestream(b []byte) ([]byte, bool) {
	if len(b) < 12 || string(b[4:8]) != "jP  " {
		return nil, false
	}
	for pos := 0; pos+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		typ := string(b[pos+4 : pos+8])
		head := 8
		switch {
		case n == 1 && pos+16 <= len(b): // a 64-bit length
			n64 := binary.BigEndian.Uint64(b[pos+8:])
			if n64 > uint64(len(b)-pos) {
				return nil, false
			}
			n, head = int(n64), 16
		case n == 0: // to the end of the file
			n = len(b) - pos
		}
		if n < head || pos+n > len(b) {
			return nil, false
		}
		if typ == "jp2c" {
			return b[pos+head : pos+n], true
		}
		pos += n
	}
	return nil, false
}

// decoder holds the coding parameters in force.
type decoder struct {
	siz        *siz
	cod        *cod
	qcd        *qcd
	maxSamples int
}

// marker reads one marker segment's body v, as png reads a chunk: one
// method per marker that sets the parameters it carries.
func (d *decoder) marker(m int, v []byte, main bool) error {
	r := &reader{b: v}
	switch m {
	case mSIZ:
		if !main {
			return errors.New("SIZ in a tile-part header")
		}
		return d.parseSIZ(r)
	case mCOD, mCOC:
		return d.parseCOD(r, m == mCOC)
	case mQCD, mQCC:
		return d.parseQCD(r, m == mQCC)
	case mRGN:
		return fmt.Errorf("region of interest (RGN): %w", ErrUnsupported)
	case mPOC:
		return fmt.Errorf("progression order changes (POC): %w", ErrUnsupported)
	case mPPM, mPPT:
		return fmt.Errorf("packed packet headers (PPM/PPT): %w", ErrUnsupported)
	case mTLM, mPLM, mPLT, mCRG, mCOM:
		// lengths and comments: not needed
	default:
		if m>>8 != 0xFF || m < 0xFF30 {
			return fmt.Errorf("marker %04X", m)
		}
		// an unknown marker segment: skipped, as the standard asks
	}
	return nil
}

// parseSIZ reads the image and tile size (SIZ): one component only, and
// no more samples than the DICOM's Rows × Columns allow.
func (d *decoder) parseSIZ(r *reader) error {
	s := &siz{}
	r.u16() // capabilities
	s.x1, s.y1, s.x0, s.y0 = r.u32(), r.u32(), r.u32(), r.u32()
	s.tw, s.th, s.tx0, s.ty0 = r.u32(), r.u32(), r.u32(), r.u32()
	comps := r.u16()
	if r.err != nil {
		return fmt.Errorf("SIZ: %w", r.err)
	}
	if comps != 1 {
		return fmt.Errorf("%d components: %w", comps, ErrUnsupported)
	}
	ssiz := r.u8()
	s.dx, s.dy = r.u8(), r.u8()
	s.prec, s.signed = ssiz&0x7F+1, ssiz&0x80 != 0
	switch {
	case r.err != nil:
		return fmt.Errorf("SIZ: %w", r.err)
	case s.x1 <= s.x0 || s.y1 <= s.y0 || s.tw == 0 || s.th == 0 || s.dx == 0 || s.dy == 0:
		return fmt.Errorf("SIZ: empty image or tiles (%d×%d from %d,%d; tiles %d×%d)", s.x1, s.y1, s.x0, s.y0, s.tw, s.th)
	case s.tx0 > s.x0 || s.ty0 > s.y0 || s.tx0+s.tw <= s.x0 || s.ty0+s.th <= s.y0:
		return errors.New("SIZ: the first tile does not cover the image's corner")
	case s.prec > 30:
		return fmt.Errorf("SIZ: %d-bit samples: %w", s.prec, ErrUnsupported)
	case int64(s.x1-s.x0)*int64(s.y1-s.y0) > int64(d.maxSamples):
		return fmt.Errorf("SIZ: %d×%d samples, more than the %d expected", s.x1-s.x0, s.y1-s.y0, d.maxSamples)
	}
	s.tilesAcross = ceilDiv(s.x1-s.tx0, s.tw)
	s.tilesDown = ceilDiv(s.y1-s.ty0, s.th)
	if s.tilesAcross*s.tilesDown > 1<<16 {
		return fmt.Errorf("SIZ: %d tiles", s.tilesAcross*s.tilesDown)
	}
	d.siz = s
	return nil
}

// parseCOD reads the coding style (COD, or COC for component 0), on top
// of the main header's.
func (d *decoder) parseCOD(r *reader, coc bool) error {
	c := &cod{}
	if d.cod != nil {
		*c = *d.cod
	}
	var scod int
	if !coc {
		scod = r.u8()
		c.sop, c.eph = scod&2 != 0, scod&4 != 0
		c.order, c.layers = r.u8(), r.u16()
		if mct := r.u8(); mct != 0 && r.err == nil {
			return fmt.Errorf("multiple component transform: %w", ErrUnsupported)
		}
	} else {
		if comp := r.u8(); comp != 0 {
			return fmt.Errorf("COC for component %d of 1", comp)
		}
		scod = r.u8()
	}
	c.levels = r.u8()
	c.xcb, c.ycb = r.u8()+2, r.u8()+2
	c.style = byte(r.u8())
	c.reversible = r.u8() == 1
	c.ppx, c.ppy = nil, nil
	for range c.levels + 1 {
		pp := 0xFF
		if scod&1 != 0 {
			pp = r.u8()
		}
		c.ppx, c.ppy = append(c.ppx, min(pp&0xF, 15)), append(c.ppy, min(pp>>4, 15))
	}
	switch {
	case r.err != nil:
		return fmt.Errorf("COD: %w", r.err)
	case c.levels > 32 || c.xcb > 10 || c.ycb > 10 || c.xcb+c.ycb > 12:
		return fmt.Errorf("COD: %d levels, code-blocks 2^%d×2^%d", c.levels, c.xcb, c.ycb)
	case c.order > 4 || c.layers == 0:
		return fmt.Errorf("COD: progression order %d, %d layers", c.order, c.layers)
	}
	for k := 1; k <= c.levels; k++ {
		if c.ppx[k] == 0 || c.ppy[k] == 0 {
			return errors.New("COD: a precinct of one sample above the lowest resolution")
		}
	}
	d.cod = c
	return nil
}

// parseQCD reads the quantization (QCD, or QCC for component 0).
func (d *decoder) parseQCD(r *reader, qcc bool) error {
	if qcc {
		if comp := r.u8(); comp != 0 {
			return fmt.Errorf("QCC for component %d of 1", comp)
		}
	}
	sq := r.u8()
	q := &qcd{guard: sq >> 5}
	switch sq & 0x1F {
	case 0:
		for r.pos < len(r.b) {
			q.expn = append(q.expn, r.u8()>>3)
		}
	case 1, 2:
		q.derived = sq&0x1F == 1
		for r.pos+2 <= len(r.b) {
			v := r.u16()
			q.expn, q.mant = append(q.expn, v>>11), append(q.mant, v&0x7FF)
		}
	default:
		return fmt.Errorf("QCD: quantization style %d", sq&0x1F)
	}
	if r.err != nil || len(q.expn) == 0 {
		return errors.New("QCD: no step sizes")
	}
	d.qcd = q
	return nil
}

func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// ceilDivPow2 is ⌈a / 2^k⌉ for a ≥ 0.
func ceilDivPow2(a, k int) int { return (a + 1<<k - 1) >> k }
