package lungseg

import (
	"context"

	"voxmine/internal/workpool"
)

// sqDistance sets each voxel of a z, y, x grid to its squared Euclidean
// distance (in voxels) to the nearest voxel whose mask value is want, or
// to farAway when that is above limit: the exact transform of
// Felzenszwalb and Huttenlocher, one axis at a time, the lines of each
// pass shared among workers. Squared distances on a grid are integers, so
// the whole transform is integer arithmetic: exact, and without a division
// in its inner loop.
//
// A morphology that compares distances with a radius needs none above it,
// and a partial distance above the limit after one pass cannot fall below
// it in the next, so such values are dropped after each pass, and a line
// that holds none below the limit is left as it is.
func sqDistance(ctx context.Context, mask []bool, want bool, shape [3]int, out []int32, limit int32, workers int) error {
	nz, ny, nx := shape[0], shape[1], shape[2]
	// Along x the input is binary: the distance to the nearest voxel of
	// the row that has want, from a scan each way.
	err := workpool.Run(ctx, nz*ny, workers, func(r int) error {
		m, o := mask[r*nx:(r+1)*nx], out[r*nx:(r+1)*nx]
		last := -1
		for x, v := range m {
			o[x] = farAway
			if v == want {
				last, o[x] = x, 0
			} else if d := int64(x-last) * int64(x-last); last >= 0 && d <= int64(limit) {
				o[x] = int32(d)
			}
		}
		last = -1
		for x := nx - 1; x >= 0; x-- {
			if m[x] == want {
				last = x
			} else if d := int64(last-x) * int64(last-x); last >= 0 && d <= int64(limit) && int32(d) < o[x] {
				o[x] = int32(d)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	passes := []struct {
		n, stride int
		start     func(line int) int
		lines     int
	}{
		{ny, nx, func(l int) int { return (l/nx)*ny*nx + l%nx }, nz * nx},
		{nz, ny * nx, func(l int) int { return l }, ny * nx},
	}
	for _, p := range passes {
		alloc := func() *edtScratch { return newEDTScratch(p.n) }
		err := workpool.Each(ctx, p.lines, workers, alloc, func(b *edtScratch, l int) error {
			s := p.start(l)
			some := false
			for k := range p.n {
				v := out[s+k*p.stride]
				b.f[k] = v
				some = some || v < farAway
			}
			if !some {
				return nil // all farAway, and so they stay
			}
			b.transform()
			for k, v := range b.d {
				if v > limit {
					v = farAway
				}
				out[s+k*p.stride] = v
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// edtScratch holds one line of a pass: its input f and output d, and the
// lower envelope's parabolas (their roots v and where each one's interval
// begins, the fraction zn/zd).
type edtScratch struct {
	f, d, v []int32
	zn, zd  []int64
}

func newEDTScratch(n int) *edtScratch {
	return &edtScratch{f: make([]int32, n), d: make([]int32, n), v: make([]int32, n), zn: make([]int64, n+1), zd: make([]int64, n+1)}
}

// transform is the 1-D squared distance transform of the sampled
// function f (Felzenszwalb & Huttenlocher 2012): d[q] = min over p of
// (q−p)² + f[p], the lower envelope of the parabolas rooted at the finite
// samples (farAway roots none). Intersections are kept as fractions and
// compared by cross-multiplying.
func (b *edtScratch) transform() {
	f, d, v, zn, zd := b.f, b.d, b.v, b.zn, b.zd
	k := -1
	for q := range f {
		if f[q] >= farAway {
			continue
		}
		fq := int64(f[q]) + int64(q*q)
		var num, den int64
		for k >= 0 {
			p := int64(v[k])
			num, den = fq-(int64(f[p])+p*p), 2*(int64(q)-p)
			// The new parabola starts at num/den; it hides parabola k
			// when that lies at or before where k's interval begins
			// (parabola 0's begins at −∞).
			if k == 0 || num*zd[k] > zn[k]*den {
				break
			}
			k--
		}
		k++
		v[k] = int32(q)
		zn[k], zd[k] = num, den
	}
	if k < 0 {
		for q := range d {
			d[q] = farAway
		}
		return
	}
	last := k
	k = 0
	for q := range d {
		// Move on while the next parabola's interval begins before q.
		for k < last && zn[k+1] < int64(q)*zd[k+1] {
			k++
		}
		p := int(v[k])
		d[q] = int32((q-p)*(q-p)) + f[p]
	}
}

// farAway marks "no voxel with the wanted value on this line yet"; it is
// larger than any squared distance on a volume's grid.
const farAway = int32(1 << 30)
