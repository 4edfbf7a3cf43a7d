package j2k

import "math/bits"

// The MQ arithmetic decoder (Annex C) and the raw bit reader of bypassed
// passes: the entropy decoders under tier 1's coding passes (t1.go).

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

// mqState is a context's state: a state of Table C.2 and the sense of
// its more probable symbol, 2·index + mps, which indexes mqTable.
type mqState uint8

// mqTable is Table C.2 unfolded by MPS sense, as OpenJPEG has it: each
// entry's Qe, its MPS and the states after an MPS and after an LPS, with
// the LPS's switch of sense already in the next state. A decision then
// needs no tests beyond the interval's. It is 256 long so that an
// mqState indexes it without a bounds check.
var mqTable = func() (t [256]struct {
	qe   uint32
	mps  uint8
	step [3]mqState // after an MPS that needs no renormalisation (the same), after an MPS, after an LPS
}) {
	for i, q := range qeTable {
		for mps := range uint8(2) {
			lps := mps
			if q.sw {
				lps = 1 - mps
			}
			e := &t[2*i+int(mps)]
			e.qe, e.mps = q.qe, mps
			e.step = [3]mqState{mqState(2*i + int(mps)), mqState(2*q.nmps + mps), mqState(2*q.nlps + lps)}
		}
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

// contexts is the decoder's context states, 32 long (numCtx used) so that
// a context number masked with 31 indexes it without a bounds check.
type contexts [32]mqState

// mq is the MQ decoder over one codeword segment.
//
// Its registers live in the coding passes' local variables (an mqRegs,
// passed to decide and returned): held in the struct they went through
// memory on every decision, and the decisions are most of a slice's
// decoding time. The struct keeps them between passes, and keeps what
// only refill needs: the bytes and the position in them.
type mq struct {
	data []byte
	pos  int
	regs mqRegs
	cx   contexts
}

// mqRegs is the MQ decoder's registers: A, the interval; C, the code;
// and CT, the bits C can still shift before its next byte is due. A
// decision's renormalisation shifts as far as it must and leaves CT
// below zero when it shifted past a byte, which refill then adds where
// it would have gone: this way decide calls nothing, and a function that
// calls nothing costs less to call.
type mqRegs struct {
	a, c uint32
	ct   int
}

func (m *mq) resetContexts() {
	m.cx = contexts{}
	m.cx[0] = 2 * 4
	m.cx[ctxRL] = 2 * 3
	m.cx[ctxUniform] = 2 * 46
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
	v, n := m.next()
	m.regs = mqRegs{a: 0x8000, c: (m.byteAt(0)<<16 + v) << 7, ct: n - 7}
}

// next is BYTEIN: it returns what the next byte adds to C and how many
// bits it brings. After a 0xFF, a byte above 0x8F is a marker (not read:
// ones are fed instead) and a smaller one holds 7 bits.
func (m *mq) next() (add uint32, n int) {
	if m.byteAt(m.pos) == 0xFF {
		if m.byteAt(m.pos+1) > 0x8F {
			return 0xFF00, 8
		}
		m.pos++
		return m.byteAt(m.pos) << 9, 7
	}
	m.pos++
	return m.byteAt(m.pos) << 8, 8
}

// refill adds the bytes that r's last renormalisation shifted past, each
// shifted as far as C went beyond it.
func (m *mq) refill(r mqRegs) mqRegs {
	for r.ct < 0 {
		add, n := m.next()
		r.c += add << -r.ct
		r.ct += n
	}
	return r
}

// skewedQe is the largest Qe of the contexts whose decisions the passes
// decode first through a branch on the common case, a more probable
// symbol that needs no renormalisation: likely enough there that the
// branch is predicted, where in the other contexts a mispredicted branch
// costs more than decide's arithmetic without one.
const skewedQe = 0x0AC1

// decide decodes one decision in context s (DECODE, with C holding the
// code value above the interval's base: below Qe it lies in the LPS
// sub-interval, which the encoder puts at the bottom) and returns it
// with the registers, which need a refill when their CT is below zero.
//
// Which symbol a decision is depends on two comparisons that are close
// to coin tosses in a CT slice's noisy low bit-planes, so decide
// computes the outcome from both without branching on either:
// mispredicted branches were most of its time.
func decide(s *mqState, r mqRegs) (uint32, mqRegs) {
	e := &mqTable[*s]
	a, c := r.a-e.qe, r.c
	// In the LPS sub-interval (C below Qe) the decision is the LPS unless
	// that sub-interval is the larger one; in the MPS sub-interval, the
	// MPS unless that one is the smaller. Only an MPS with A still at
	// least half its range leaves the state as it was.
	var low, small, renorm uint32
	if c>>16 < e.qe {
		low = 1
	}
	if a < e.qe {
		small = 1
	}
	if a < 0x8000 {
		renorm = 1
	}
	renorm |= low
	lps := low ^ small
	*s = e.step[renorm+renorm&lps]
	lowMask := -low // all ones in the LPS sub-interval
	a = a&^lowMask | e.qe&lowMask
	c -= e.qe << 16 &^ lowMask
	// RENORMD: shift A until its top bit is set, and C with it.
	n := uint(bits.LeadingZeros32(a)) - 16
	return uint32(e.mps) ^ lps, mqRegs{a << n, c << n, r.ct - int(n)}
}

// decode is decide with the refill: for the decisions that are not the
// passes' most frequent.
func (m *mq) decode(s *mqState, r mqRegs) (uint32, mqRegs) {
	bit, r := decide(s, r)
	if r.ct < 0 {
		r = m.refill(r)
	}
	return bit, r
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

func (r *raw) bit() uint32 {
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
	return r.cur >> r.n & 1
}
