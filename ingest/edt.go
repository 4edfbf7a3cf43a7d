package ingest

import (
	"context"
	"math"

	"voxmine/internal/workpool"
)

// sqDistance replaces each voxel of a z, y, x grid with its squared
// Euclidean distance (in voxels) to the nearest voxel where fg is true —
// the exact transform of Felzenszwalb and Huttenlocher, one axis at a time,
// the lines of each pass shared among workers.
func sqDistance(ctx context.Context, fg func(i int) bool, shape [3]int, out []float32, workers int) error {
	nz, ny, nx := shape[0], shape[1], shape[2]
	for i := range out {
		if fg(i) {
			out[i] = 0
		} else {
			out[i] = farAway
		}
	}
	passes := []struct {
		n, stride int
		start     func(line int) int
		lines     int
	}{
		{nx, 1, func(l int) int { return l * nx }, nz * ny},
		{ny, nx, func(l int) int { return (l/nx)*ny*nx + l%nx }, nz * nx},
		{nz, ny * nx, func(l int) int { return l }, ny * nx},
	}
	for _, p := range passes {
		type scratch struct {
			f, d, z []float32
			v       []int32
		}
		alloc := func() *scratch {
			return &scratch{f: make([]float32, p.n), d: make([]float32, p.n), z: make([]float32, p.n+1), v: make([]int32, p.n)}
		}
		err := workpool.Each(ctx, p.lines, workers, alloc, func(b *scratch, l int) error {
			s := p.start(l)
			for k := range p.n {
				b.f[k] = out[s+k*p.stride]
			}
			edt1(b.f, b.d, b.v, b.z)
			for k := range p.n {
				out[s+k*p.stride] = b.d[k]
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// edt1 is the 1-D squared distance transform of sampled function f
// (Felzenszwalb & Huttenlocher 2012): the lower envelope of the parabolas
// rooted at the finite samples. Infinite samples root no parabola.
func edt1(f, d []float32, v []int32, z []float32) {
	n := len(f)
	inf := float32(math.Inf(1))
	k := -1
	for q := range n {
		if f[q] >= farAway {
			continue
		}
		fq := f[q] + float32(q*q)
		var s float32
		for k >= 0 {
			p := int(v[k])
			s = (fq - (f[p] + float32(p*p))) / float32(2*(q-p))
			if s > z[k] {
				break
			}
			k--
		}
		k++
		v[k] = int32(q)
		if k == 0 {
			z[0] = -inf
		} else {
			z[k] = s
		}
		z[k+1] = inf
	}
	if k < 0 {
		for q := range d {
			d[q] = farAway
		}
		return
	}
	k = 0
	for q := range n {
		for z[k+1] < float32(q) {
			k++
		}
		p := int(v[k])
		d[q] = float32((q-p)*(q-p)) + f[p]
	}
}

// farAway marks "no foreground on this line yet".
const farAway = float32(1e20)
