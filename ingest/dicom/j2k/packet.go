package j2k

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// The tile's structure: resolutions, their subbands, precincts and
// code-blocks, all in the coordinates of the tile-component (B.5–B.7).

type resolution struct {
	x0, y0, x1, y1 int
	ppx, ppy       int // precinct size exponents
	pw, ph         int // precincts across and down
	bands          []*band
}

type band struct {
	orient         int // 0 LL, 1 HL, 2 LH, 3 HH
	x0, y0, x1, y1 int
	mb             int // bit-planes of its coefficients (guard bits + exponent − 1)
	coeff          []int32
	step           float64     // the quantization step of an irreversible band, else 0
	fcoeff         []float64   // an irreversible band's dequantized coefficients
	precincts      []*precinct // as the resolution's, in raster order
}

type precinct struct {
	cw, ch    int // code-blocks across and down
	blocks    []*codeblock
	incl, zbp *tagTree
}

type codeblock struct {
	x0, y0, x1, y1 int
	included       bool
	lblock         int
	zbp            int
	passes         int // coding passes included so far
	segs           []segment
}

// segment is a run of coding passes coded as one codeword segment.
type segment struct {
	data      []byte
	passes    int // included so far
	maxPasses int
}

// decodeTile decodes tile t's packets (data) and writes its samples
// into img.
func decodeTile(img *Image, s *siz, c *cod, q *qcd, t int, data []byte) error {
	p, qy := t%s.tilesAcross, t/s.tilesAcross
	tx0, ty0 := max(s.tx0+p*s.tw, s.x0), max(s.ty0+qy*s.th, s.y0)
	tx1, ty1 := min(s.tx0+(p+1)*s.tw, s.x1), min(s.ty0+(qy+1)*s.th, s.y1)
	nl := c.levels
	res := make([]*resolution, nl+1)
	for r := range res {
		sh := nl - r
		rs := &resolution{x0: ceilDivPow2(tx0, sh), y0: ceilDivPow2(ty0, sh), x1: ceilDivPow2(tx1, sh), y1: ceilDivPow2(ty1, sh), ppx: c.ppx[r], ppy: c.ppy[r]}
		if rs.x1 > rs.x0 {
			rs.pw = ceilDivPow2(rs.x1, rs.ppx) - rs.x0>>rs.ppx
		}
		if rs.y1 > rs.y0 {
			rs.ph = ceilDivPow2(rs.y1, rs.ppy) - rs.y0>>rs.ppy
		}
		orients := []int{0}
		if r > 0 {
			orients = []int{1, 2, 3}
		}
		for _, o := range orients {
			b := &band{orient: o}
			nb := nl - r + 1
			if r == 0 {
				nb = nl
			}
			xob, yob := o&1, o>>1
			b.x0 = ceilDivPow2(max(tx0-(xob<<nb>>1), 0), nb)
			b.y0 = ceilDivPow2(max(ty0-(yob<<nb>>1), 0), nb)
			b.x1 = ceilDivPow2(max(tx1-(xob<<nb>>1), 0), nb)
			b.y1 = ceilDivPow2(max(ty1-(yob<<nb>>1), 0), nb)
			// The subband's exponent: LL, then HL, LH, HH per level; with
			// derived quantization LL's, one less per level above it.
			k := 0
			if r > 0 {
				k = 3*(r-1) + o
			}
			expn, mant := 0, 0
			switch {
			case q.derived && len(q.expn) > 0:
				expn, mant = q.expn[0]-nl+nb, q.mant[0]
			case k < len(q.expn):
				expn = q.expn[k]
				if k < len(q.mant) {
					mant = q.mant[k]
				}
			default:
				return fmt.Errorf("QCD gives %d step sizes for %d levels", len(q.expn), nl)
			}
			b.mb = q.guard + expn - 1
			if b.mb > 31 || b.mb < 0 {
				return fmt.Errorf("subband with %d bit-planes", b.mb)
			}
			n := (b.x1 - b.x0) * (b.y1 - b.y0)
			if c.reversible {
				b.coeff = make([]int32, n)
			} else {
				// Δ = 2^(R−ε)(1 + μ/2^11), with R the sample precision: the
				// subbands' gains are in the synthesis filters' scaling
				// (inverse97), as OpenJPEG has them.
				b.step = math.Ldexp(1+float64(mant)/2048, s.prec-expn)
				b.fcoeff = make([]float64, n)
			}
			b.precincts = makePrecincts(rs, b, r, c)
			rs.bands = append(rs.bands, b)
		}
		res[r] = rs
	}
	if err := readPackets(res, c, data); err != nil {
		return err
	}
	var scratch block
	for _, rs := range res {
		for _, b := range rs.bands {
			for _, pr := range b.precincts {
				for _, cb := range pr.blocks {
					if err := decodeBlock(cb, b, c.style, &scratch); err != nil {
						return err
					}
				}
			}
		}
	}
	var pix []int32
	if c.reversible {
		pix = inverseDWT(res)
	} else {
		pix = inverseDWT97(res)
	}
	// The DC level shift, and the tile's place in the image.
	w := tx1 - tx0
	lo, hi := int32(0), int32(1)<<s.prec-1
	shift := int32(1) << (s.prec - 1)
	if s.signed {
		lo, hi, shift = -shift, shift-1, 0
	}
	for y := ty0; y < ty1; y++ {
		row := img.Pix[(y-s.y0)*img.Width+tx0-s.x0:]
		for x := range w {
			v := pix[(y-ty0)*w+x] + shift
			row[x] = min(max(v, lo), hi)
		}
	}
	return nil
}

// makePrecincts partitions a subband into its precincts and their
// code-blocks.
func makePrecincts(rs *resolution, b *band, r int, c *cod) []*precinct {
	ppx, ppy := rs.ppx, rs.ppy
	xcb, ycb := min(c.xcb, ppx), min(c.ycb, ppy)
	if r > 0 {
		ppx, ppy = ppx-1, ppy-1
		xcb, ycb = min(c.xcb, ppx), min(c.ycb, ppy)
	}
	// Precinct k across starts at (⌊x0 / 2^PPx⌋ + k)·2^PPx in the
	// resolution, half that in a subband above the lowest resolution.
	px0, py0 := rs.x0>>rs.ppx<<ppx, rs.y0>>rs.ppy<<ppy
	var out []*precinct
	for j := range rs.ph {
		for i := range rs.pw {
			pr := &precinct{}
			x0, y0 := max(px0+i<<ppx, b.x0), max(py0+j<<ppy, b.y0)
			x1, y1 := min(px0+(i+1)<<ppx, b.x1), min(py0+(j+1)<<ppy, b.y1)
			if x1 > x0 && y1 > y0 {
				cx0, cy0 := x0>>xcb<<xcb, y0>>ycb<<ycb
				pr.cw, pr.ch = ceilDivPow2(x1-cx0, xcb), ceilDivPow2(y1-cy0, ycb)
				for cy := range pr.ch {
					for cx := range pr.cw {
						pr.blocks = append(pr.blocks, &codeblock{
							x0: max(cx0+cx<<xcb, x0), y0: max(cy0+cy<<ycb, y0),
							x1: min(cx0+(cx+1)<<xcb, x1), y1: min(cy0+(cy+1)<<ycb, y1),
							lblock: 3,
						})
					}
				}
				pr.incl, pr.zbp = newTagTree(pr.cw, pr.ch), newTagTree(pr.cw, pr.ch)
			}
			out = append(out, pr)
		}
	}
	return out
}

// readPackets reads the tile's packets in its progression order.
func readPackets(res []*resolution, c *cod, data []byte) error {
	type packet struct{ l, r, p int }
	// Every packet takes a byte at least, so a header that claims more
	// packets than the tile has bytes is corrupt (and the list of them
	// could be made to fill the memory).
	n := 0
	for _, rs := range res {
		n += rs.pw * rs.ph
	}
	if n*c.layers > len(data) {
		return fmt.Errorf("%d layers of %d precincts need more than the tile's %d bytes (corrupt or truncated codestream)", c.layers, n, len(data))
	}
	order := make([]packet, 0, n*c.layers)
	nl := len(res) - 1
	switch c.order {
	case 0: // LRCP
		for l := range c.layers {
			for r, rs := range res {
				for p := range rs.pw * rs.ph {
					order = append(order, packet{l, r, p})
				}
			}
		}
	case 1: // RLCP
		for r, rs := range res {
			for l := range c.layers {
				for p := range rs.pw * rs.ph {
					order = append(order, packet{l, r, p})
				}
			}
		}
	default:
		// RPCL, PCRL, CPRL with one component: precincts by where they
		// start on the tile-component's grid (RPCL per resolution).
		type prec struct{ r, p, y, x int }
		var ps []prec
		for r, rs := range res {
			sh := nl - r
			for p := range rs.pw * rs.ph {
				i, j := p%rs.pw, p/rs.pw
				x := max((rs.x0>>rs.ppx+i)<<rs.ppx<<sh, rs.x0<<sh)
				y := max((rs.y0>>rs.ppy+j)<<rs.ppy<<sh, rs.y0<<sh)
				ps = append(ps, prec{r, p, y, x})
			}
		}
		sort.SliceStable(ps, func(a, b int) bool {
			pa, pb := ps[a], ps[b]
			if c.order == 2 && pa.r != pb.r { // RPCL: resolution first
				return pa.r < pb.r
			}
			if pa.y != pb.y {
				return pa.y < pb.y
			}
			if pa.x != pb.x {
				return pa.x < pb.x
			}
			return pa.r < pb.r
		})
		for _, pr := range ps {
			for l := range c.layers {
				order = append(order, packet{l, pr.r, pr.p})
			}
		}
	}
	pos := 0
	for k, pk := range order {
		n, err := readPacket(res[pk.r], pk.p, pk.l, c, data[pos:])
		if errors.Is(err, errEndOfData) {
			// A codestream cut short: decoding what arrived would give a
			// blurred image that looks whole.
			return fmt.Errorf("the tile's data ends in packet %d of %d (truncated codestream)", k+1, len(order))
		}
		if err != nil {
			return fmt.Errorf("packet (layer %d, resolution %d, precinct %d): %w", pk.l, pk.r, pk.p, err)
		}
		pos += n
	}
	return nil
}

var errEndOfData = errors.New("packet data ends")

// readPacket reads one packet from b and returns its length.
func readPacket(rs *resolution, p, layer int, c *cod, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errEndOfData
	}
	pos := 0
	if c.sop && len(b) >= 6 && b[0] == 0xFF && b[1] == 0x91 {
		pos = 6
	}
	br := &bitReader{b: b, pos: pos}
	type inc struct {
		cb    *codeblock
		lens  []int // bytes per segment touched, in order
		first int   // index of the first segment touched
	}
	var incs []inc
	if br.bit() == 1 {
		for _, bd := range rs.bands {
			pr := bd.precincts[p]
			for k, cb := range pr.blocks {
				var in bool
				if !cb.included {
					in = pr.incl.decode(br, k, layer+1)
				} else {
					in = br.bit() == 1
				}
				if !in {
					continue
				}
				if !cb.included {
					i := 1
					for !pr.zbp.decode(br, k, i) {
						i++
						if i > 64 {
							return 0, errors.New("zero bit-planes tag tree does not end")
						}
					}
					cb.zbp = i - 1
					cb.included = true
				}
				newPasses := numPasses(br)
				for br.bit() == 1 {
					cb.lblock++
				}
				// Segment by segment: lengths of Lblock + ⌊log2 passes⌋ bits.
				in2 := inc{cb: cb, first: len(cb.segs)}
				if n := len(cb.segs); n > 0 && cb.segs[n-1].passes < cb.segs[n-1].maxPasses {
					in2.first = n - 1
				}
				for newPasses > 0 {
					n := len(cb.segs)
					if n == 0 || cb.segs[n-1].passes == cb.segs[n-1].maxPasses {
						cb.segs = append(cb.segs, segment{maxPasses: segmentPasses(cb.passes, c.style)})
						n++
					}
					sg := &cb.segs[n-1]
					take := min(newPasses, sg.maxPasses-sg.passes)
					bits := cb.lblock + floorLog2(take)
					if bits > 32 {
						return 0, fmt.Errorf("a codeword length of %d bits", bits)
					}
					in2.lens = append(in2.lens, br.bits(bits))
					sg.passes += take
					cb.passes += take
					newPasses -= take
				}
				incs = append(incs, in2)
			}
		}
	}
	if br.err != nil {
		return 0, errEndOfData
	}
	pos = br.align()
	if c.eph && pos+2 <= len(b) && b[pos] == 0xFF && b[pos+1] == 0x92 {
		pos += 2
	}
	for _, in := range incs {
		for k, n := range in.lens {
			if pos+n > len(b) {
				return 0, errEndOfData
			}
			sg := &in.cb.segs[in.first+k]
			sg.data = append(sg.data, b[pos:pos+n]...)
			pos += n
		}
	}
	return pos, nil
}

// segmentPasses is how many coding passes the codeword segment that
// starts with pass k may hold: all of them, one with termination on each
// pass, and with selective bypass the first ten (four bit-planes of
// arithmetic coding), then two raw (significance and refinement) and one
// arithmetic (cleanup) in turn.
func segmentPasses(k int, style byte) int {
	switch {
	case style&styleTermAll != 0:
		return 1
	case style&styleBypass != 0:
		switch {
		case k < 10:
			return 10 - k
		case (k-10)%3 == 0:
			return 2
		case (k-10)%3 == 1:
			return 1 // a refinement pass that starts a segment (after a cut)
		default:
			return 1
		}
	}
	return 1 << 30
}

// numPasses reads the number of new coding passes (Table B.4).
func numPasses(br *bitReader) int {
	if br.bit() == 0 {
		return 1
	}
	if br.bit() == 0 {
		return 2
	}
	if n := br.bits(2); n != 3 {
		return 3 + n
	}
	if n := br.bits(5); n != 31 {
		return 6 + n
	}
	return 37 + br.bits(7)
}

func floorLog2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// bitReader reads packet header bits: most significant first, and after
// a byte of 0xFF only seven bits of the next (a stuffed zero).
type bitReader struct {
	b      []byte
	pos    int
	cur    byte
	n      int // bits left in cur
	lastFF bool
	err    error
}

func (r *bitReader) bit() int {
	if r.n == 0 {
		if r.pos >= len(r.b) {
			r.err = errEndOfData
			return 0
		}
		r.n = 8
		if r.lastFF {
			r.n = 7
		}
		r.cur = r.b[r.pos]
		r.lastFF = r.cur == 0xFF
		r.pos++
	}
	r.n--
	return int(r.cur>>r.n) & 1
}

func (r *bitReader) bits(n int) int {
	v := 0
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// align ends the header: the rest of the byte is padding, and a byte of
// 0xFF is followed by a stuffed one. It returns where the body starts.
func (r *bitReader) align() int {
	if r.lastFF {
		r.pos++
		r.lastFF = false
	}
	r.n = 0
	return r.pos
}

// tagTree is a tag tree (B.10.2) over a w × h grid of code-blocks.
type tagTree struct {
	nodes  []ttNode
	leaves int
}

type ttNode struct {
	parent     int // −1 at the root
	value, low int
}

func newTagTree(w, h int) *tagTree {
	t := &tagTree{leaves: w * h}
	type level struct{ w, h, start int }
	var levels []level
	for {
		levels = append(levels, level{w, h, len(t.nodes)})
		for range w * h {
			t.nodes = append(t.nodes, ttNode{parent: -1, value: 1 << 30})
		}
		if w*h <= 1 {
			break
		}
		w, h = (w+1)/2, (h+1)/2
	}
	for k := 0; k+1 < len(levels); k++ {
		lv, up := levels[k], levels[k+1]
		for y := range lv.h {
			for x := range lv.w {
				t.nodes[lv.start+y*lv.w+x].parent = up.start + (y/2)*up.w + x/2
			}
		}
	}
	return t
}

// decode reads bits until it knows whether leaf's value is below
// threshold, and reports whether it is.
func (t *tagTree) decode(br *bitReader, leaf, threshold int) bool {
	var path [32]int
	n := 0
	for i := leaf; i >= 0; i = t.nodes[i].parent {
		path[n] = i
		n++
	}
	low := 0
	for k := n - 1; k >= 0; k-- {
		nd := &t.nodes[path[k]]
		if low > nd.low {
			nd.low = low
		} else {
			low = nd.low
		}
		for low < threshold && low < nd.value {
			if br.bit() == 1 {
				nd.value = low
			} else {
				low++
			}
			if br.err != nil {
				return false
			}
		}
		nd.low = low
	}
	return t.nodes[leaf].value < threshold
}
