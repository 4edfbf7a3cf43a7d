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
		hl, lh, hh := rs.bands[0], rs.bands[1], rs.bands[2]
		lw := lo.x1 - lo.x0
		hw := hl.x1 - hl.x0
		// Even absolute positions take the low-pass, odd the high-pass
		// samples; a low band starts at ⌈x0/2⌉, a high one at ⌊x0/2⌋.
		for y := rs.y0; y < rs.y1; y++ {
			row := out[(y-rs.y0)*w:]
			for x := rs.x0; x < rs.x1; x++ {
				var v int32
				switch {
				case x&1 == 0 && y&1 == 0:
					v = ll[(y/2-lo.y0)*lw+x/2-lo.x0]
				case y&1 == 0:
					v = hl.coeff[(y/2-hl.y0)*hw+x/2-hl.x0]
				case x&1 == 0:
					v = lh.coeff[(y/2-lh.y0)*lw+x/2-lh.x0]
				default:
					v = hh.coeff[(y/2-hh.y0)*hw+x/2-hh.x0]
				}
				row[x-rs.x0] = v
			}
		}
		buf := make([]int32, max(w, h))
		for y := range h {
			inverse53(out[y*w:(y+1)*w], rs.x0)
		}
		for x := range w {
			col := buf[:h]
			for y := range h {
				col[y] = out[y*w+x]
			}
			inverse53(col, rs.y0)
			for y := range h {
				out[y*w+x] = col[y]
			}
		}
		ll = out
	}
	return ll
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
	at := func(k int) int32 {
		for k < 0 || k >= n {
			if k < 0 {
				k = -k
			}
			if k >= n {
				k = 2*(n-1) - k
			}
		}
		return x[k]
	}
	for k := (i0 & 1); k < n; k += 2 { // even positions
		x[k] -= (at(k-1) + at(k+1) + 2) >> 2
	}
	for k := 1 - (i0 & 1); k < n; k += 2 { // odd positions
		x[k] += (at(k-1) + at(k+1)) >> 1
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
		hl, lh, hh := rs.bands[0], rs.bands[1], rs.bands[2]
		lw, hw := lo.x1-lo.x0, hl.x1-hl.x0
		for y := rs.y0; y < rs.y1; y++ {
			row := out[(y-rs.y0)*w:]
			for x := rs.x0; x < rs.x1; x++ {
				var v float64
				switch {
				case x&1 == 0 && y&1 == 0:
					v = ll[(y/2-lo.y0)*lw+x/2-lo.x0]
				case y&1 == 0:
					v = hl.fcoeff[(y/2-hl.y0)*hw+x/2-hl.x0]
				case x&1 == 0:
					v = lh.fcoeff[(y/2-lh.y0)*lw+x/2-lh.x0]
				default:
					v = hh.fcoeff[(y/2-hh.y0)*hw+x/2-hh.x0]
				}
				row[x-rs.x0] = v
			}
		}
		col := make([]float64, h)
		for y := range h {
			inverse97(out[y*w:(y+1)*w], rs.x0)
		}
		for x := range w {
			for y := range h {
				col[y] = out[y*w+x]
			}
			inverse97(col, rs.y0)
			for y := range h {
				out[y*w+x] = col[y]
			}
		}
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
	at := func(k int) float64 {
		for k < 0 || k >= n {
			if k < 0 {
				k = -k
			}
			if k >= n {
				k = 2*(n-1) - k
			}
		}
		return x[k]
	}
	even, odd := i0&1, 1-i0&1 // the first even and odd absolute positions
	for k := even; k < n; k += 2 {
		x[k] *= lift97K
	}
	for k := odd; k < n; k += 2 {
		x[k] *= 2 / lift97K
	}
	for k := even; k < n; k += 2 {
		x[k] -= lift97Delta * (at(k-1) + at(k+1))
	}
	for k := odd; k < n; k += 2 {
		x[k] -= lift97Gamma * (at(k-1) + at(k+1))
	}
	for k := even; k < n; k += 2 {
		x[k] -= lift97Beta * (at(k-1) + at(k+1))
	}
	for k := odd; k < n; k += 2 {
		x[k] -= lift97Alpha * (at(k-1) + at(k+1))
	}
}
