package j2k

import "math"

// inverseDWT rebuilds the tile-component from its subbands with the
// reversible 5/3 wavelet (F.3), resolution by resolution: interleave the
// four subbands, then filter every row and every column.
func inverseDWT(res []*resolution) []int32 {
	ll := res[0].bands[0].coeff
	for r := 1; r < len(res); r++ {
		rs, lo := res[r], res[r-1]
		w, h := rs.x1-rs.x0, rs.y1-rs.y0
		out := make([]int32, w*h)
		interleave(out, rs, lo, ll, rs.bands[0].coeff, rs.bands[1].coeff, rs.bands[2].coeff)
		for y := range h {
			inverse53(out[y*w:(y+1)*w], rs.x0)
		}
		inverse53Columns(out, w, h, rs.y0)
		ll = out
	}
	return ll
}

// interleave fills out, resolution rs's samples, with the four subbands
// it is made of: even absolute positions take the low-pass, odd the
// high-pass samples; a low band starts at ⌈x0/2⌉, a high one at ⌊x0/2⌋.
// ll is the lower resolution lo's samples, hl, lh and hh rs's bands'.
func interleave[T int32 | float64](out []T, rs, lo *resolution, ll, hl, lh, hh []T) {
	w := rs.x1 - rs.x0
	lw, hw := lo.x1-lo.x0, rs.bands[0].x1-rs.bands[0].x0
	lowX0, highX0 := lo.x0, rs.bands[0].x0
	for y := rs.y0; y < rs.y1; y++ {
		row := out[(y-rs.y0)*w : (y-rs.y0+1)*w]
		var low, high []T
		if y&1 == 0 {
			low, high = ll[(y/2-lo.y0)*lw:], hl[(y/2-rs.bands[0].y0)*hw:]
		} else {
			low, high = lh[(y/2-rs.bands[1].y0)*lw:], hh[(y/2-rs.bands[2].y0)*hw:]
		}
		for x := rs.x0; x < rs.x1; x++ {
			if x&1 == 0 {
				row[x-rs.x0] = low[x/2-lowX0]
			} else {
				row[x-rs.x0] = high[x/2-highX0]
			}
		}
	}
}

// mirror is position k of a signal of n samples extended symmetrically
// at both ends (F.3.7).
func mirror(k, n int) int {
	for k < 0 || k >= n {
		if k < 0 {
			k = -k
		}
		if k >= n {
			k = 2*(n-1) - k
		}
	}
	return k
}

// inverse53 is 1D_SR for the 5/3 filter (F.3.8.1, F.3.7) on a signal whose
// first sample sits at absolute position i0, extended symmetrically.
func inverse53(x []int32, i0 int) {
	n := len(x)
	if n == 0 {
		return
	}
	if n == 1 {
		if i0&1 == 1 {
			x[0] /= 2
		}
		return
	}
	// Even positions, then odd; a signal's ends mirror their neighbour.
	k := i0 & 1
	if k == 0 {
		x[0] -= (x[1] + x[1] + 2) >> 2
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] -= (x[k-1] + x[k+1] + 2) >> 2
	}
	if k < n {
		x[k] -= (x[k-1] + x[k-1] + 2) >> 2
	}
	k = 1 - i0&1
	if k == 0 {
		x[0] += (x[1] + x[1]) >> 1
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] += (x[k-1] + x[k+1]) >> 1
	}
	if k < n {
		x[k] += (x[k-1] + x[k-1]) >> 1
	}
}

// inverse53Columns is inverse53 down each column of out's h rows of w,
// a whole row at a time: a column's samples are a row apart, and walking
// them one column at a time read memory out of order.
func inverse53Columns(out []int32, w, h, i0 int) {
	row := func(k int) []int32 { return out[k*w : (k+1)*w] }
	if h == 1 {
		if i0&1 == 1 {
			for x, v := range row(0) {
				out[x] = v / 2
			}
		}
		return
	}
	for k := i0 & 1; k < h; k += 2 { // even positions
		cur, up, down := row(k), row(mirror(k-1, h)), row(mirror(k+1, h))
		for x := range cur {
			cur[x] -= (up[x] + down[x] + 2) >> 2
		}
	}
	for k := 1 - i0&1; k < h; k += 2 { // odd positions
		cur, up, down := row(k), row(mirror(k-1, h)), row(mirror(k+1, h))
		for x := range cur {
			cur[x] += (up[x] + down[x]) >> 1
		}
	}
}

// inverseDWT97 rebuilds the tile-component with the irreversible 9/7
// wavelet (F.3.8.2), in float64, and rounds the samples half to even as
// OpenJPEG does.
func inverseDWT97(res []*resolution) []int32 {
	ll := res[0].bands[0].fcoeff
	for r := 1; r < len(res); r++ {
		rs, lo := res[r], res[r-1]
		w, h := rs.x1-rs.x0, rs.y1-rs.y0
		out := make([]float64, w*h)
		interleave(out, rs, lo, ll, rs.bands[0].fcoeff, rs.bands[1].fcoeff, rs.bands[2].fcoeff)
		for y := range h {
			inverse97(out[y*w:(y+1)*w], rs.x0)
		}
		inverse97Columns(out, w, h, rs.y0)
		ll = out
	}
	pix := make([]int32, len(ll))
	for i, v := range ll {
		pix[i] = int32(math.RoundToEven(v))
	}
	return pix
}

// The 9/7 lifting constants (Table F.4) and the scaling of the low- and
// high-pass samples; the high pass carries a factor 2 because the step
// sizes leave out the subbands' gains (OpenJPEG's convention).
const (
	lift97Alpha = -1.586134342059924
	lift97Beta  = -0.052980118572961
	lift97Gamma = 0.882911075530934
	lift97Delta = 0.443506852043971
	lift97K     = 1.230174104914001
)

// inverse97 is 1D_SR for the 9/7 filter on a signal whose first sample
// sits at absolute position i0, extended symmetrically.
func inverse97(x []float64, i0 int) {
	n := len(x)
	if n < 2 {
		return // a lone sample is its own reconstruction
	}
	even, odd := i0&1, 1-i0&1 // the first even and odd absolute positions
	for k := even; k < n; k += 2 {
		x[k] *= lift97K
	}
	for k := odd; k < n; k += 2 {
		x[k] *= 2 / lift97K
	}
	lift97(x, even, lift97Delta)
	lift97(x, odd, lift97Gamma)
	lift97(x, even, lift97Beta)
	lift97(x, odd, lift97Alpha)
}

// lift97 is one lifting step of inverse97: every other sample from first
// less by times the sum of its two neighbours, the signal's ends mirrored
// (len(x) ≥ 2).
func lift97(x []float64, first int, by float64) {
	n, k := len(x), first
	if k == 0 {
		x[0] -= by * (x[1] + x[1])
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] -= by * (x[k-1] + x[k+1])
	}
	if k < n {
		x[k] -= by * (x[k-1] + x[k-1])
	}
}

// inverse97Columns is inverse97 down each column of out's h rows of w, a
// whole row at a time, as inverse53Columns is.
func inverse97Columns(out []float64, w, h, i0 int) {
	if h < 2 {
		return // a lone sample is its own reconstruction
	}
	row := func(k int) []float64 { return out[k*w : (k+1)*w] }
	scale := func(first int, by float64) {
		for k := first; k < h; k += 2 {
			cur := row(k)
			for x := range cur {
				cur[x] *= by
			}
		}
	}
	lift := func(first int, by float64) {
		for k := first; k < h; k += 2 {
			cur, up, down := row(k), row(mirror(k-1, h)), row(mirror(k+1, h))
			for x := range cur {
				cur[x] -= by * (up[x] + down[x])
			}
		}
	}
	even, odd := i0&1, 1-i0&1 // the first even and odd absolute positions
	scale(even, lift97K)
	scale(odd, 2/lift97K)
	lift(even, lift97Delta)
	lift(odd, lift97Gamma)
	lift(even, lift97Beta)
	lift(odd, lift97Alpha)
}
