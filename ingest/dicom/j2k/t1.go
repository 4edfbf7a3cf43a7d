package j2k

import (
	"fmt"
	"math"
)

// Tier 1: the MQ arithmetic decoder (Annex C) and the three coding passes
// of a code-block (Annex D).

// qeTable is the MQ coder's probability estimation (Table C.2): Qe, the
// next state after an MPS and after an LPS, and whether an LPS switches
// the MPS sense.
var qeTable = [47]struct {
	qe         uint32
	nmps, nlps uint8
	sw         bool
}{
	{0x5601, 1, 1, true}, {0x3401, 2, 6, false}, {0x1801, 3, 9, false}, {0x0AC1, 4, 12, false},
	{0x0521, 5, 29, false}, {0x0221, 38, 33, false}, {0x5601, 7, 6, true}, {0x5401, 8, 14, false},
	{0x4801, 9, 14, false}, {0x3801, 10, 14, false}, {0x3001, 11, 17, false}, {0x2401, 12, 18, false},
	{0x1C01, 13, 20, false}, {0x1601, 29, 21, false}, {0x5601, 15, 14, true}, {0x5401, 16, 14, false},
	{0x5101, 17, 15, false}, {0x4801, 18, 16, false}, {0x3801, 19, 17, false}, {0x3401, 20, 18, false},
	{0x3001, 21, 19, false}, {0x2801, 22, 19, false}, {0x2401, 23, 20, false}, {0x2201, 24, 21, false},
	{0x1C01, 25, 22, false}, {0x1801, 26, 23, false}, {0x1601, 27, 24, false}, {0x1401, 28, 25, false},
	{0x1201, 29, 26, false}, {0x1101, 30, 27, false}, {0x0AC1, 31, 28, false}, {0x09C1, 32, 29, false},
	{0x08A1, 33, 30, false}, {0x0521, 34, 31, false}, {0x0441, 35, 32, false}, {0x02A1, 36, 33, false},
	{0x0221, 37, 34, false}, {0x0141, 38, 35, false}, {0x0111, 39, 36, false}, {0x0085, 40, 37, false},
	{0x0049, 41, 38, false}, {0x0025, 42, 39, false}, {0x0015, 43, 40, false}, {0x0009, 44, 41, false},
	{0x0005, 45, 42, false}, {0x0001, 45, 43, false}, {0x5601, 46, 46, false},
}

// qeOf is qeTable's Qe by state, 256 long so that a uint8 state indexes
// it without a bounds check.
var qeOf = func() (t [256]uint32) {
	for i, q := range qeTable {
		t[i] = q.qe
	}
	return t
}()

// Contexts: 0–8 significance, 9–13 sign, 14–16 refinement, 17 run
// length, 18 uniform.
const (
	ctxRL      = 17
	ctxUniform = 18
	numCtx     = 19
)

type mqState struct {
	index uint8
	mps   uint8
}

// mq is the MQ decoder over one codeword segment.
type mq struct {
	data []byte
	pos  int
	a, c uint32
	ct   int
	cx   [32]mqState // numCtx used; 32 lets decode index without a bounds check
}

func (m *mq) resetContexts() {
	m.cx = [32]mqState{}
	m.cx[0].index = 4
	m.cx[ctxRL].index = 3
	m.cx[ctxUniform].index = 46
}

func (m *mq) byteAt(i int) uint32 {
	if i < len(m.data) {
		return uint32(m.data[i])
	}
	return 0xFF // past the end: read as a marker, which feeds ones
}

// init starts decoding data (INITDEC).
func (m *mq) init(data []byte) {
	m.data, m.pos = data, 0
	m.c = m.byteAt(0) << 16
	m.byteIn()
	m.c <<= 7
	m.ct -= 7
	m.a = 0x8000
}

// byteIn is BYTEIN: after a 0xFF, a byte above 0x8F is a marker (not
// read: ones are fed instead) and a smaller one holds 7 bits.
func (m *mq) byteIn() {
	if m.byteAt(m.pos) == 0xFF {
		if m.byteAt(m.pos+1) > 0x8F {
			m.c += 0xFF00
			m.ct = 8
		} else {
			m.pos++
			m.c += m.byteAt(m.pos) << 9
			m.ct = 7
		}
	} else {
		m.pos++
		m.c += m.byteAt(m.pos) << 8
		m.ct = 8
	}
}

// decode decodes one decision in context cx (DECODE, with the code
// register C holding the code value above the interval's base: below Qe
// it lies in the LPS sub-interval, which the encoder puts at the bottom).
// The common case, a more probable symbol that needs no renormalisation,
// is small enough for the compiler to inline; the rest is decodeSlow.
func (m *mq) decode(cx int) int {
	s := &m.cx[cx&(len(m.cx)-1)]
	qe := qeOf[s.index]
	if a := m.a - qe; a&0x8000 != 0 && m.c>>16 >= qe {
		m.a = a
		m.c -= qe << 16
		return int(s.mps)
	}
	return m.decodeSlow(s)
}

// decodeSlow is decode's exchanges and renormalisation.
func (m *mq) decodeSlow(s *mqState) int {
	q := qeTable[s.index]
	m.a -= q.qe
	var d int
	if m.c>>16 < q.qe {
		// LPS exchange
		if m.a < q.qe {
			d = int(s.mps)
			s.index = q.nmps
		} else {
			d = int(1 - s.mps)
			if q.sw {
				s.mps = 1 - s.mps
			}
			s.index = q.nlps
		}
		m.a = q.qe
	} else {
		m.c -= q.qe << 16
		// MPS exchange
		if m.a < q.qe {
			d = int(1 - s.mps)
			if q.sw {
				s.mps = 1 - s.mps
			}
			s.index = q.nlps
		} else {
			d = int(s.mps)
			s.index = q.nmps
		}
	}
	for { // RENORMD
		if m.ct == 0 {
			m.byteIn()
		}
		m.a <<= 1
		m.c <<= 1
		m.ct--
		if m.a&0x8000 != 0 {
			break
		}
	}
	return d
}

// raw reads the bits of a bypass (raw) segment: most significant first,
// a stuffed zero after each 0xFF.
type raw struct {
	data []byte
	pos  int
	cur  uint32
	n    int
}

func (r *raw) init(data []byte) { *r = raw{data: data} }

func (r *raw) bit() int {
	if r.n == 0 {
		last := r.cur
		r.cur = 0xFF
		if r.pos < len(r.data) {
			r.cur = uint32(r.data[r.pos])
		}
		r.pos++
		r.n = 8
		if last == 0xFF {
			r.n = 7
		}
	}
	r.n--
	return int(r.cur>>r.n) & 1
}

// Per-sample state of a code-block, one uint16 each: the significance of
// its eight neighbours and the signs of the four beside it (kept up to
// date as samples become significant, so a context is a table lookup),
// and its own state.
const (
	nN, nS, nW, nE     = 1 << 0, 1 << 1, 1 << 2, 1 << 3 // neighbour above, below, left, right significant
	nNW, nNE, nSW, nSE = 1 << 4, 1 << 5, 1 << 6, 1 << 7 // diagonal neighbours significant
	negN, negS         = 1 << 8, 1 << 9                 // and negative
	negW, negE         = 1 << 10, 1 << 11
	fSig               = 1 << 12 // significant
	fVisited           = 1 << 13 // coded in this bit-plane's significance pass
	fRefined           = 1 << 14 // refined at least once
	fNeg               = 1 << 15 // negative

	neighbourBits = 0xFF
	belowBits     = nS | nSW | nSE | negS // what causal stripes do not look at
)

// zcTable gives the significance context (Table D.1) for each orientation
// and set of significant neighbours.
var zcTable = func() (t [4][256]uint8) {
	for o := range 4 {
		for f := range 256 {
			h := f>>2&1 + f>>3&1
			v := f&1 + f>>1&1
			d := f>>4&1 + f>>5&1 + f>>6&1 + f>>7&1
			t[o][f] = uint8(zcContext(o, h, v, d))
		}
	}
	return t
}()

// zcContext is Table D.1: h, v and d count the significant horizontal,
// vertical and diagonal neighbours.
func zcContext(orient, h, v, d int) int {
	switch orient {
	case 1: // HL: horizontal and vertical swap roles
		h, v = v, h
	case 3: // HH
		hv := h + v
		switch {
		case d >= 3:
			return 8
		case d == 2:
			if hv >= 1 {
				return 7
			}
			return 6
		case d == 1:
			return 3 + min(hv, 2)
		default:
			return min(hv, 2)
		}
	}
	switch {
	case h == 2:
		return 8
	case h == 1:
		switch {
		case v >= 1:
			return 7
		case d >= 1:
			return 6
		}
		return 5
	case v == 2:
		return 4
	case v == 1:
		return 3
	case d >= 2:
		return 2
	}
	return d
}

// scTable gives the sign context and the bit to XOR (Table D.3) for the
// significance and signs of the four neighbours beside a sample: index
// bits 0–3 significant N, S, W, E; bits 4–7 negative N, S, W, E.
var scTable = func() (t [256]struct{ cx, xor uint8 }) {
	for f := range 256 {
		contrib := func(sig, neg int) int {
			switch {
			case f>>sig&1 == 0:
				return 0
			case f>>neg&1 == 1:
				return -1
			}
			return 1
		}
		hc := max(-1, min(1, contrib(2, 6)+contrib(3, 7)))
		vc := max(-1, min(1, contrib(0, 4)+contrib(1, 5)))
		var cx, xor int
		switch hc {
		case 1:
			cx = 12 + vc // V 1, 0, −1: 13, 12, 11
		case 0:
			cx = 9 + vc*vc // V ±1: 10, 0: 9
			if vc < 0 {
				xor = 1
			}
		default:
			cx, xor = 12-vc, 1 // V 1, 0, −1: 11, 12, 13
		}
		t[f] = struct{ cx, xor uint8 }{uint8(cx), uint8(xor)}
	}
	return t
}()

// block is a code-block being decoded: its states with a border of one
// sample, its magnitudes and the decoders.
type block struct {
	w, h   int
	stride int
	flags  []uint16
	mag    []int32
	known  []int8 // the lowest bit-plane decoded of each significant sample
	zc     *[256]uint8
	causal bool
	mq     mq
	raw    raw
	isRaw  bool
}

// reset makes b a w×h code-block with nothing decoded, reusing its
// buffers: a 512² slice has some 300 code-blocks, and buffers made for
// each were a tenth of its decoding time.
func (b *block) reset(w, h int, zc *[256]uint8, causal bool) {
	b.w, b.h, b.stride, b.zc, b.causal, b.isRaw = w, h, w+2, zc, causal, false
	b.flags = clearOf(b.flags, (w+2)*(h+2))
	b.mag = clearOf(b.mag, w*h)
	b.known = clearOf(b.known, w*h)
	b.mq.resetContexts()
}

// clearOf returns s resized to n zeros, reusing its array when it can.
func clearOf[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// ctx returns the neighbour bits of sample i (row y of the block), the
// row below masked out in causal mode at a stripe's last row.
func (b *block) ctx(i, y int) uint16 {
	f := b.flags[i]
	if b.causal && y%4 == 3 {
		f &^= belowBits
	}
	return f
}

// sign decodes the sign of sample i (row y) and reports negative.
func (b *block) sign(i, y int) bool {
	f := b.ctx(i, y)
	e := scTable[f&0xF|f>>4&0xF0]
	return uint8(b.mq.decode(int(e.cx)))^e.xor == 1
}

// decodeBlock decodes a code-block's passes into its subband's
// coefficients.
func decodeBlock(cb *codeblock, bd *band, style byte, b *block) error {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	planes := bd.mb - cb.zbp
	if cb.passes == 0 || w <= 0 || h <= 0 {
		return nil
	}
	if planes <= 0 || cb.passes > 3*planes-2 {
		return fmt.Errorf("code-block with %d passes and %d bit-planes", cb.passes, planes)
	}
	b.reset(w, h, &zcTable[bd.orient], style&styleCausal != 0)
	pass := 0
	p := planes - 1 // the bit-plane being coded
	kind := 2       // the first pass is a cleanup
	for _, sg := range cb.segs {
		b.isRaw = style&styleBypass != 0 && pass >= 10 && kind != 2
		if b.isRaw {
			b.raw.init(sg.data)
		} else {
			b.mq.init(sg.data)
		}
		for range sg.passes {
			switch kind {
			case 0:
				b.significancePass(p)
			case 1:
				b.refinementPass(p)
			case 2:
				b.cleanupPass(p, style&styleSegSym != 0)
			}
			if style&styleReset != 0 {
				b.mq.resetContexts()
			}
			pass++
			kind++
			if kind == 3 {
				kind = 0
				p--
			}
			if sg.passes > 1 && style&styleBypass != 0 && pass >= 10 {
				b.isRaw = kind != 2
			}
		}
	}
	// The coefficients: sign and magnitude, and where passes are missing
	// (a lossy truncation) the middle of what the bits not decoded allow,
	// rounded towards zero, as OpenJPEG reconstructs.
	bw := bd.x1 - bd.x0
	if bd.fcoeff != nil {
		// Irreversible: the middle of the interval the decoded bits leave,
		// ±(magnitude + 2^(lowest plane decoded) / 2), times the step.
		for y := range h {
			row := bd.fcoeff[(cb.y0-bd.y0+y)*bw+cb.x0-bd.x0:]
			for x := range w {
				m := b.mag[y*w+x]
				if m == 0 {
					continue
				}
				v := (float64(m) + math.Ldexp(0.5, int(b.known[y*w+x]))) * bd.step
				if b.flags[(y+1)*b.stride+x+1]&fNeg != 0 {
					v = -v
				}
				row[x] = v
			}
		}
		return nil
	}
	for y := range h {
		row := bd.coeff[(cb.y0-bd.y0+y)*bw+cb.x0-bd.x0:]
		for x := range w {
			m := b.mag[y*w+x]
			if m == 0 {
				continue
			}
			if k := b.known[y*w+x]; k > 0 {
				m += 1 << (k - 1)
			}
			if b.flags[(y+1)*b.stride+x+1]&fNeg != 0 {
				m = -m
			}
			row[x] = m
		}
	}
	return nil
}

// decodeBit reads one decision: raw in a bypass segment, else in cx.
func (b *block) decodeBit(cx int) int {
	if b.isRaw {
		return b.raw.bit()
	}
	return b.mq.decode(cx)
}

// significancePass codes the insignificant samples with a significant
// neighbour (D.3.1).
func (b *block) significancePass(p int) {
	// The block's fields in locals: the calls below could change them as
	// far as the compiler knows, which would reload them every sample.
	flags, stride, w, h, zc := b.flags, b.stride, b.w, b.h, b.zc
	for y0 := 0; y0 < h; y0 += 4 {
		y1 := min(y0+4, h)
		for x := range w {
			for y := y0; y < y1; y++ {
				i := (y+1)*stride + x + 1
				f := flags[i]
				if f&fSig != 0 || f&neighbourBits == 0 {
					continue
				}
				if b.causal && y&3 == 3 {
					if f &^= belowBits; f&neighbourBits == 0 {
						continue
					}
				}
				flags[i] |= fVisited
				if b.decodeBit(int(zc[f&neighbourBits])) == 1 {
					b.becomeSignificant(i, x, y, p)
				}
			}
		}
	}
}

// becomeSignificant decodes the sign of sample i, at (x, y), found
// significant at bit-plane p, and tells its neighbours.
func (b *block) becomeSignificant(i, x, y, p int) {
	var neg bool
	if b.isRaw {
		neg = b.raw.bit() == 1
	} else {
		neg = b.sign(i, y)
	}
	fl, st := b.flags, b.stride
	fl[i] |= fSig
	fl[i-st] |= nS
	fl[i+st] |= nN
	fl[i-1] |= nE
	fl[i+1] |= nW
	fl[i-st-1] |= nSE
	fl[i-st+1] |= nSW
	fl[i+st-1] |= nNE
	fl[i+st+1] |= nNW
	if neg {
		fl[i] |= fNeg
		fl[i-st] |= negS
		fl[i+st] |= negN
		fl[i-1] |= negE
		fl[i+1] |= negW
	}
	b.mag[y*b.w+x] |= 1 << p
	b.known[y*b.w+x] = int8(p)
}

// refinementPass adds bit p to the samples significant before this
// bit-plane (D.3.3).
func (b *block) refinementPass(p int) {
	flags, stride, w, h, mag, known := b.flags, b.stride, b.w, b.h, b.mag, b.known
	for y0 := 0; y0 < h; y0 += 4 {
		y1 := min(y0+4, h)
		for x := range w {
			for y := y0; y < y1; y++ {
				i := (y+1)*stride + x + 1
				f := flags[i]
				if f&fSig == 0 || f&fVisited != 0 {
					continue
				}
				cx := 16
				if f&fRefined == 0 {
					cx = 14
					if b.ctx(i, y)&neighbourBits != 0 {
						cx = 15
					}
				}
				mag[y*w+x] |= int32(b.decodeBit(cx)) << p
				known[y*w+x] = int8(p)
				flags[i] |= fRefined
			}
		}
	}
}

// cleanupPass codes the samples the significance pass left (D.3.4), four
// at a time in run-length mode where a stripe column has no significant
// neighbours, then clears the visited marks.
func (b *block) cleanupPass(p int, segSym bool) {
	stride, w, h, zc := b.stride, b.w, b.h, b.zc
	for y0 := 0; y0 < h; y0 += 4 {
		y1 := min(y0+4, h)
		for x := range w {
			y := y0
			if y0+4 <= h {
				quiet := true
				for k := y0; k < y0+4 && quiet; k++ {
					quiet = b.ctx((k+1)*stride+x+1, k)&(fSig|fVisited|neighbourBits) == 0
				}
				if quiet {
					if b.mq.decode(ctxRL) == 0 {
						continue // the four stay insignificant
					}
					r := b.mq.decode(ctxUniform)<<1 | b.mq.decode(ctxUniform)
					y = y0 + r
					b.becomeSignificant((y+1)*stride+x+1, x, y, p)
					y++
				}
			}
			for ; y < y1; y++ {
				i := (y+1)*stride + x + 1
				f := b.ctx(i, y)
				if f&(fSig|fVisited) != 0 {
					continue
				}
				if b.mq.decode(int(zc[f&neighbourBits])) == 1 {
					b.becomeSignificant(i, x, y, p)
				}
			}
		}
	}
	if segSym {
		for range 4 {
			b.mq.decode(ctxUniform)
		}
	}
	for i := range b.flags {
		b.flags[i] &^= fVisited
	}
}
