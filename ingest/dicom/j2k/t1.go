package j2k

import (
	"fmt"
	"math/bits"
)

// Tier 1: the three coding passes of a code-block (Annex D), decoded
// with mq.go's decoders.
//
// A code-block's states are kept a stripe column at a time, as OpenJPEG
// keeps them: one uint64 word for the four samples of a column in a
// stripe. The passes walk stripe columns, so a column with nothing to
// code costs one test, a sample's context is a shift and a table lookup,
// and the run-length test of the cleanup pass is one mask. (The decoder
// kept one state per sample before, and visited every sample of every
// bit-plane three times: 1.9 times OpenJPEG's time on a CT slice.)
//
// The bits of a stripe column's word, with rows r = −1 … 4 (−1 the last
// row of the stripe above, 4 the first of the stripe below) and columns
// c = −1, 0, +1 (the column to the left, its own, the one to the right):
const (
	// Significant: bit 3(r+1) + c+1, bits 0–17. Row r's 3 × 3
	// neighbourhood is word>>3r & 0x1FF, itself at bit 4 of that.
	sigAround = 1<<18 - 1
	// Negative: the significant bit's, negShift higher (bits 18–35), so
	// that the signs beside a sample are a shift away too.
	negShift = 18
	// Refined at least once: bit refShift + r, r = 0 … 3.
	refShift = 36
	// Coded in this bit-plane's significance pass: bit visShift + r.
	visShift = 40
	visAll   = 0xF << visShift
	// Significant, the column's own four rows again: bit ownShift + r.
	ownShift = 44
)

// Within a row's 3 × 3 neighbourhood (word>>3r & 0x1FF): the rows above,
// its own and below, three bits each from the left.
const (
	nwSelf   = 1 << 4
	nwAround = 0x1FF &^ nwSelf
)

// zcTable gives the significance context (Table D.1) for each orientation
// and 3 × 3 neighbourhood.
var zcTable = func() (t [4][512]uint8) {
	for o := range 4 {
		for f := range 512 {
			h := f>>3&1 + f>>5&1
			v := f>>1&1 + f>>7&1
			d := f&1 + f>>2&1 + f>>6&1 + f>>8&1
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
// significance and signs of the four neighbours beside a sample, as a
// row's 3 × 3 neighbourhoods of both give them: index bits 1, 3, 5, 7
// significant N, W, E, S; bits 0, 2, 4, 6 negative N, W, E, S.
var scTable = func() (t [256]struct{ cx, xor uint8 }) {
	for k := range 256 {
		// The index's bits as bits 0–3 significant N, S, W, E and 4–7
		// negative N, S, W, E.
		f := k>>1&1 | k>>6&2 | k>>1&4 | k>>2&8 |
			k&1<<4 | k>>1&0x20 | k<<4&0x40 | k<<3&0x80
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
		t[k] = struct{ cx, xor uint8 }{uint8(cx), uint8(xor)}
	}
	return t
}()

// block is a code-block being decoded: its stripe columns' states with a
// border of one column on each side and one stripe above and below, its
// coefficients and the decoders.
//
// A coefficient is kept doubled, with the middle of what its undecoded
// bits allow: 2|q| + 2^k, where k is the lowest bit-plane decoded for it
// (as OpenJPEG keeps them). Found significant in bit-plane p it is 3·2^p;
// a refinement bit in plane p adds 2^p for a one and takes it away for a
// zero. Halved it is the reconstruction: the magnitude itself when every
// plane was decoded, else the middle of the interval a lossy truncation
// leaves.
type block struct {
	w, h   int
	fw     int // words a row of stripes: w + 2
	flags  []uint64
	data   []uint32 // doubled magnitudes, row by row
	zc     *[512]uint8
	causal bool
	mq     mq
	raw    raw
	isRaw  bool
}

// reset makes b a w×h code-block with nothing decoded, reusing its
// buffers: a 512² slice has some 300 code-blocks, and buffers made for
// each were a tenth of its decoding time.
func (b *block) reset(w, h int, zc *[512]uint8, causal bool) {
	b.w, b.h, b.fw, b.zc, b.causal, b.isRaw = w, h, w+2, zc, causal, false
	b.flags = clearOf(b.flags, (w+2)*((h+3)/4+2))
	b.data = clearOf(b.data, w*h)
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

// ownSignificant returns which of the four rows of word f are
// significant, row r at bit r.
func ownSignificant(f uint64) uint32 {
	return uint32(f>>ownShift) & 0xF
}

// visited returns which of the four rows of word f this bit-plane's
// significance pass coded, row r at bit r.
func visited(f uint64) uint32 {
	return uint32(f>>visShift) & 0xF
}

// window returns row r's 3 × 3 neighbourhood in word f.
func window(f uint64, r int) uint32 {
	return uint32(f>>(3*r)) & 0x1FF
}

// signContext returns the sign context of row r of word f, whose
// neighbourhood is win, and the bit to XOR with the decision.
func signContext(f uint64, r int, win uint32) (cx int, xor uint32) {
	neg := uint32(f>>(negShift+3*r)) & 0x1FF
	e := scTable[(win&0xAA|neg>>1&0x55)&0xFF]
	return int(e.cx), uint32(e.xor)
}

// setSignificant records row r of word i as significant, negative when
// neg is 1, in its own word and in its neighbours'.
func (b *block) setSignificant(i, r int, neg uint32) {
	fl, fw := b.flags, b.fw
	bit := 1 | uint64(neg)<<negShift
	fl[i-1] |= bit << (3*r + 5)
	fl[i] |= bit<<(3*r+4) | 1<<(ownShift+r)
	fl[i+1] |= bit << (3*r + 3)
	switch {
	case r == 0 && !b.causal: // row 4 of the stripe above, which causal
		// stripes keep from knowing: their contexts leave it out
		fl[i-fw-1] |= bit << 17
		fl[i-fw] |= bit << 16
		fl[i-fw+1] |= bit << 15
	case r == 3: // row −1 of the stripe below
		fl[i+fw-1] |= bit << 2
		fl[i+fw] |= bit << 1
		fl[i+fw+1] |= bit
	}
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
	b.store(cb, bd)
	return nil
}

// store writes the decoded coefficients, halved and signed, into the
// subband: as integers in a reversible band (rounded towards zero, as
// OpenJPEG reconstructs), dequantized by the step in an irreversible one.
func (b *block) store(cb *codeblock, bd *band) {
	w, h, fw := b.w, b.h, b.fw
	bw := bd.x1 - bd.x0
	for y := range h {
		src := b.data[y*w : (y+1)*w]
		signs := b.flags[(y/4+1)*fw+1:]
		shift := negShift + 3*(y%4) + 4
		at := (cb.y0-bd.y0+y)*bw + cb.x0 - bd.x0
		if bd.fcoeff != nil {
			row := bd.fcoeff[at : at+w]
			for x, d := range src {
				if d == 0 {
					continue
				}
				v := float64(d) * 0.5 * bd.step
				if signs[x]>>shift&1 != 0 {
					v = -v
				}
				row[x] = v
			}
			continue
		}
		row := bd.coeff[at : at+w]
		for x, d := range src {
			if d == 0 {
				continue
			}
			v := int32(d >> 1)
			if signs[x]>>shift&1 != 0 {
				v = -v
			}
			row[x] = v
		}
	}
}

// significancePass codes the insignificant samples with a significant
// neighbour (D.3.1).
func (b *block) significancePass(p int) {
	// The block's fields in locals: the calls below could change them as
	// far as the compiler knows, which would reload them every sample.
	flags, fw, w, h, data, zc := b.flags, b.fw, b.w, b.h, b.data, b.zc
	m := &b.mq
	reg := m.regs
	found := uint32(3) << p
	for y0 := 0; y0 < h; y0 += 4 {
		rowMask := uint32(1)<<min(4, h-y0) - 1
		first := (y0/4+1)*fw + 1
		for x := range w {
			i := first + x
			f := flags[i]
			if f&sigAround == 0 {
				continue // no significant sample in or beside the column
			}
			for todo := ^ownSignificant(f) & rowMask; todo != 0; todo &= todo - 1 {
				r := bits.TrailingZeros32(todo)
				f := flags[i] // with the rows above as this pass left them
				win := window(f, r)
				if win == 0 {
					continue
				}
				flags[i] = f | 1<<(visShift+r)
				var bit uint32
				if b.isRaw {
					bit = b.raw.bit()
				} else {
					s := &m.cx[zc[win]&31]
					if e := &mqTable[*s]; e.qe <= skewedQe && reg.a-e.qe >= 0x8000 && reg.c>>16 >= e.qe {
						reg.a, reg.c, bit = reg.a-e.qe, reg.c-e.qe<<16, uint32(e.mps)
					} else if bit, reg = decide(s, reg); reg.ct < 0 {
						reg = m.refill(reg)
					}
				}
				if bit == 0 {
					continue
				}
				if b.isRaw {
					b.setSignificant(i, r, b.raw.bit())
				} else {
					reg = b.becomeSignificant(i, r, reg)
				}
				data[(y0+r)*w+x] = found
			}
		}
	}
	m.regs = reg
}

// refinementPass adds bit p to the samples significant before this
// bit-plane (D.3.3).
func (b *block) refinementPass(p int) {
	flags, fw, w, h, data := b.flags, b.fw, b.w, b.h, b.data
	m := &b.mq
	reg := m.regs
	half := uint32(1) << p
	for y0 := 0; y0 < h; y0 += 4 {
		first := (y0/4+1)*fw + 1
		for x := range w {
			i := first + x
			f := flags[i]
			todo := ownSignificant(f) &^ visited(f)
			if todo == 0 {
				continue
			}
			for rest := todo; rest != 0; rest &= rest - 1 {
				r := bits.TrailingZeros32(rest)
				cx := 16
				if f>>(refShift+r)&1 == 0 {
					cx = 14
					if window(f, r)&nwAround != 0 {
						cx = 15
					}
				}
				var bit uint32
				if b.isRaw {
					bit = b.raw.bit()
				} else {
					s := &m.cx[cx]
					if e := &mqTable[*s]; e.qe <= skewedQe && reg.a-e.qe >= 0x8000 && reg.c>>16 >= e.qe {
						reg.a, reg.c, bit = reg.a-e.qe, reg.c-e.qe<<16, uint32(e.mps)
					} else if bit, reg = decide(s, reg); reg.ct < 0 {
						reg = m.refill(reg)
					}
				}
				data[(y0+r)*w+x] += bit<<(p+1) - half
			}
			flags[i] = f | uint64(todo)<<refShift
		}
	}
	m.regs = reg
}

// cleanupPass codes the samples the significance pass left (D.3.4), four
// at a time in run-length mode where a stripe column and its
// neighbourhood are quiet, and clears the visited marks as it goes.
func (b *block) cleanupPass(p int, segSym bool) {
	flags, fw, w, h, data, zc := b.flags, b.fw, b.w, b.h, b.data, b.zc
	m := &b.mq
	reg := m.regs
	found := uint32(3) << p
	const quiet = sigAround | visAll
	for y0 := 0; y0 < h; y0 += 4 {
		rows := min(4, h-y0)
		rowMask := uint32(1)<<rows - 1
		first := (y0/4+1)*fw + 1
		for x := range w {
			i := first + x
			f := flags[i]
			// The rows to code: neither significant nor visited.
			todo := ^(ownSignificant(f) | visited(f)) & rowMask
			if rows == 4 && f&quiet == 0 {
				var bit uint32
				s := &m.cx[ctxRL]
				if e := &mqTable[*s]; e.qe <= skewedQe && reg.a-e.qe >= 0x8000 && reg.c>>16 >= e.qe {
					reg.a, reg.c, bit = reg.a-e.qe, reg.c-e.qe<<16, uint32(e.mps)
				} else if bit, reg = decide(s, reg); reg.ct < 0 {
					reg = m.refill(reg)
				}
				if bit == 0 {
					continue // the four stay insignificant
				}
				var hi, lo uint32
				hi, reg = m.decode(&m.cx[ctxUniform], reg)
				lo, reg = m.decode(&m.cx[ctxUniform], reg)
				r := int(hi<<1 | lo)
				reg = b.becomeSignificant(i, r, reg)
				data[(y0+r)*w+x] = found
				todo &^= 2<<r - 1
			}
			for ; todo != 0; todo &= todo - 1 {
				r := bits.TrailingZeros32(todo)
				var bit uint32
				s := &m.cx[zc[window(flags[i], r)]&31]
				if e := &mqTable[*s]; e.qe <= skewedQe && reg.a-e.qe >= 0x8000 && reg.c>>16 >= e.qe {
					reg.a, reg.c, bit = reg.a-e.qe, reg.c-e.qe<<16, uint32(e.mps)
				} else if bit, reg = decide(s, reg); reg.ct < 0 {
					reg = m.refill(reg)
				}
				if bit == 1 {
					reg = b.becomeSignificant(i, r, reg)
					data[(y0+r)*w+x] = found
				}
			}
			flags[i] &^= visAll
		}
	}
	if segSym {
		for range 4 {
			_, reg = m.decode(&m.cx[ctxUniform], reg)
		}
	}
	m.regs = reg
}

// becomeSignificant decodes the sign of row r of word i, found
// significant, with the MQ registers reg, records it and returns the
// registers.
func (b *block) becomeSignificant(i, r int, reg mqRegs) mqRegs {
	f := b.flags[i]
	cx, xor := signContext(f, r, window(f, r))
	neg, reg := decide(&b.mq.cx[cx&31], reg)
	if reg.ct < 0 {
		reg = b.mq.refill(reg)
	}
	b.setSignificant(i, r, neg^xor)
	return reg
}
