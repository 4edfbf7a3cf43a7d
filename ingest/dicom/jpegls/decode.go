package jpegls

import (
	"errors"
	"fmt"
)

// The scan: context modelling, prediction and Golomb decoding of each
// sample (T.87 Annex A), in regular and run mode.

// runJ is J[RUNindex] (A.7.1.1): the order of the run-length code.
var runJ = [32]int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// bitReader reads the scan's bits, most significant first; a byte after
// 0xFF holds 7 (its top bit is a stuffed zero), and 0xFF before a byte
// with its top bit set is a marker: the end of the data.
type bitReader struct {
	b      []byte
	pos    int
	acc    uint64
	n      int
	marker bool
	past   int // bits put into acc beyond the data (zeros)
	lastFF bool
}

// overrun is how many bits beyond the data have been read (not just
// buffered).
func (r *bitReader) overrun() int { return r.past - r.n }

func (r *bitReader) fill() {
	for r.n <= 56 {
		if r.marker || r.pos >= len(r.b) {
			r.n += 8
			r.past += 8
			continue
		}
		c := r.b[r.pos]
		if r.lastFF {
			if c&0x80 != 0 { // a marker
				r.marker = true
				continue
			}
			r.acc |= uint64(c) << (57 - r.n) // 7 bits
			r.n += 7
		} else {
			r.acc |= uint64(c) << (56 - r.n)
			r.n += 8
		}
		r.lastFF = c == 0xFF
		r.pos++
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

func (r *bitReader) bit() int { return r.bits(1) }

// golomb reads a limited-length Golomb code (A.5.3) of order k.
func (r *bitReader) golomb(k, limit, qbpp int) (int, error) {
	zeros := 0
	for r.bit() == 0 {
		zeros++
		if zeros > limit || r.overrun() > 64 {
			return 0, errors.New("a Golomb code longer than the limit (corrupt data)")
		}
	}
	switch {
	case zeros < limit-qbpp-1:
		return zeros<<k | r.bits(k), nil
	case zeros == limit-qbpp-1:
		return r.bits(qbpp) + 1, nil
	}
	return 0, errors.New("a Golomb code longer than the limit (corrupt data)")
}

// coder holds the scan's parameters and context statistics.
type coder struct {
	maxval, near, t1, t2, t3, reset int
	rng, qbpp, limit                int
	a, b, c, n                      [367]int // 365 regular contexts, 2 run interruption
	nn                              [2]int
	runIndex                        int
}

func decodeScan(img *Image, p params, near int, data []byte) error {
	c := &coder{maxval: p.maxval, near: near, t1: p.t1, t2: p.t2, t3: p.t3, reset: p.reset}
	c.rng = (c.maxval+2*near)/(2*near+1) + 1
	c.qbpp = bitsFor(c.rng - 1)
	bpp := max(2, bitsFor(c.maxval))
	c.limit = 2 * (bpp + max(8, bpp))
	for q := range c.a {
		c.a[q], c.n[q] = max(2, (c.rng+32)/64), 1
	}
	r := &bitReader{b: data}
	w := img.Width
	prev, cur := make([]int, w+2), make([]int, w+2)
	for y := range img.Height {
		prev[w+1] = prev[w]
		cur[0] = prev[1]
		for x := 0; x < w; {
			i := x + 1
			ra, rb, rc, rd := cur[i-1], prev[i], prev[i-1], prev[i+1]
			q1, q2, q3 := c.quantize(rd-rb), c.quantize(rb-rc), c.quantize(rc-ra)
			if q1 == 0 && q2 == 0 && q3 == 0 {
				n, err := c.run(r, cur, prev, x, w)
				if err != nil {
					return fmt.Errorf("row %d: %w", y, err)
				}
				x += n
				continue
			}
			v, err := c.regular(r, ra, rb, rc, q1, q2, q3)
			if err != nil {
				return fmt.Errorf("row %d: %w", y, err)
			}
			cur[i] = v
			x++
		}
		for x := range w {
			img.Pix[y*w+x] = uint16(cur[x+1])
		}
		prev, cur = cur, prev
	}
	if r.overrun() > 8 {
		return errors.New("the scan's data ends before its last sample (truncated)")
	}
	return nil
}

// bitsFor is ⌈log2(v + 1)⌉: the bits that hold 0…v.
func bitsFor(v int) int {
	k := 0
	for v > 0 {
		v >>= 1
		k++
	}
	return k
}

// quantize maps a gradient to −4…4 (A.3.3).
func (c *coder) quantize(d int) int {
	switch {
	case d <= -c.t3:
		return -4
	case d <= -c.t2:
		return -3
	case d <= -c.t1:
		return -2
	case d < -c.near:
		return -1
	case d <= c.near:
		return 0
	case d < c.t1:
		return 1
	case d < c.t2:
		return 2
	case d < c.t3:
		return 3
	}
	return 4
}

// reconstruct adds an error to a prediction modulo the range (A.4.5).
func (c *coder) reconstruct(px, errval int) int {
	rx := px + errval*(2*c.near+1)
	switch {
	case rx < -c.near:
		rx += c.rng * (2*c.near + 1)
	case rx > c.maxval+c.near:
		rx -= c.rng * (2*c.near + 1)
	}
	return min(max(rx, 0), c.maxval)
}

// regular decodes a sample in regular mode (A.4–A.6).
func (c *coder) regular(r *bitReader, ra, rb, rc, q1, q2, q3 int) (int, error) {
	sign := 1
	if q1 < 0 || (q1 == 0 && (q2 < 0 || (q2 == 0 && q3 < 0))) {
		sign, q1, q2, q3 = -1, -q1, -q2, -q3
	}
	q := (q1*9+q2)*9 + q3
	// The median edge detector, corrected by the context's bias.
	var px int
	switch {
	case rc >= max(ra, rb):
		px = min(ra, rb)
	case rc <= min(ra, rb):
		px = max(ra, rb)
	default:
		px = ra + rb - rc
	}
	px = min(max(px+sign*c.c[q], 0), c.maxval)
	k := 0
	for c.n[q]<<k < c.a[q] {
		k++
	}
	m, err := r.golomb(k, c.limit, c.qbpp)
	if err != nil {
		return 0, err
	}
	e := m >> 1 // the inverse of the error mapping
	if m&1 == 1 {
		e = -(m + 1) >> 1
	}
	if c.near == 0 && k == 0 && 2*c.b[q]+c.n[q]-1 < 0 {
		e = -e - 1 // the mapping for a context biased negative (A.5.2)
	}
	// The context's statistics (A.6).
	c.b[q] += e * (2*c.near + 1)
	c.a[q] += abs(e)
	if c.n[q] == c.reset {
		c.a[q] >>= 1
		c.b[q] >>= 1
		c.n[q] >>= 1
	}
	c.n[q]++
	if c.b[q] <= -c.n[q] {
		c.b[q] += c.n[q]
		if c.c[q] > -128 {
			c.c[q]--
		}
		if c.b[q] <= -c.n[q] {
			c.b[q] = -c.n[q] + 1
		}
	} else if c.b[q] > 0 {
		c.b[q] -= c.n[q]
		if c.c[q] < 127 {
			c.c[q]++
		}
		if c.b[q] > 0 {
			c.b[q] = 0
		}
	}
	return c.reconstruct(px, sign*e), nil
}

// run decodes a run of samples equal to the one before the first (A.7)
// from x on, and the sample that interrupts it unless the run reaches the
// end of the row; it returns how many samples it decoded.
func (c *coder) run(r *bitReader, cur, prev []int, x, w int) (int, error) {
	start := x
	val := cur[x] // Ra of the first sample
	for r.bit() == 1 {
		n := min(1<<runJ[c.runIndex], w-x)
		for range n {
			cur[x+1] = val
			x++
		}
		if n == 1<<runJ[c.runIndex] {
			c.runIndex = min(c.runIndex+1, 31)
		}
		if x == w {
			return x - start, nil
		}
		if r.overrun() > 64 {
			return 0, errors.New("the data ends in a run")
		}
	}
	n := r.bits(runJ[c.runIndex])
	if x+n >= w {
		return 0, fmt.Errorf("a run of %d past the end of the row (corrupt data)", n)
	}
	for range n {
		cur[x+1] = val
		x++
	}
	// The interruption sample.
	i := x + 1
	ra, rb := cur[i-1], prev[i]
	ri := 0
	if abs(ra-rb) <= c.near {
		ri = 1
	}
	q := 365 + ri
	temp := c.a[q]
	if ri == 1 {
		temp += c.n[q] >> 1
	}
	k := 0
	for c.n[q]<<k < temp {
		k++
	}
	m, err := r.golomb(k, c.limit-runJ[c.runIndex]-1, c.qbpp)
	if err != nil {
		return 0, err
	}
	t := m + ri
	mp := t & 1
	e := (t + mp) >> 1
	if (k != 0 || 2*c.nn[ri] >= c.n[q]) == (mp == 1) {
		e = -e
	}
	if e < 0 {
		c.nn[ri]++
	}
	c.a[q] += (m + 1 - ri) >> 1
	if c.n[q] == c.reset {
		c.a[q] >>= 1
		c.n[q] >>= 1
		c.nn[ri] >>= 1
	}
	c.n[q]++
	px := ra
	if ri == 0 {
		px = rb
		if rb < ra {
			e = -e
		}
	}
	cur[i] = c.reconstruct(px, e)
	c.runIndex = max(c.runIndex-1, 0)
	return x + 1 - start, nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
