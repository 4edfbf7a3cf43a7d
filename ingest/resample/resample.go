package resample

import (
	"context"
	"fmt"
	"math"

	"voxmine/internal/workpool"
	"voxmine/store/grid"
)

// Grid1mm returns the 1 mm grid the Kaggle notebook resamples to with
// SimpleITK: the same origin and direction, spacing 1 mm and, per axis,
// round(size × spacing) voxels with Python's round (halves to even).
func Grid1mm(in grid.Geometry) grid.Geometry {
	out := in
	out.Spacing = [3]float64{1, 1, 1}
	for a := range 3 { // a indexes x, y, z; Shape is z, y, x
		n := in.Shape[2-a]
		out.Shape[2-a] = max(1, int(math.RoundToEven(float64(n)*in.Spacing[a])))
	}
	return out
}

// axisSigns checks that the direction matrix is diagonal with entries ±1
// (LUNA16 has the identity and the x-y mirror) and returns the diagonal.
// Such grids map each output axis onto one input axis, which is what makes
// the separable resampling below possible.
func axisSigns(g grid.Geometry) ([3]float64, error) {
	var d [3]float64
	for r := range 3 {
		for c := range 3 {
			v := g.Direction[r*3+c]
			if r == c {
				if v != 1 && v != -1 {
					return d, fmt.Errorf("direction %v is not axis-aligned: oblique scans are not supported", g.Direction)
				}
				d[r] = v
			} else if v != 0 {
				return d, fmt.Errorf("direction %v is not axis-aligned: oblique scans are not supported", g.Direction)
			}
		}
	}
	return d, nil
}

// axisMap says, for each output voxel along one axis, which input voxels
// ITK's linear interpolator blends and with what weight, or that the
// output voxel lies outside the input.
type axisMap struct {
	inside []bool
	base   []int     // lower input voxel (clamped to 0)
	next   []int     // upper input voxel (clamped to the last)
	dist   []float64 // weight of next; 0 means base alone
	near   []int     // nearest input voxel (for label masks)
}

// mapAxis reproduces ITK's arithmetic for one axis: the output point
// origin + d·k, the continuous index (1/(d·s))·(point − origin), and for the
// scan-line axis x the interpolation between the line's end points that
// ResampleImageFilter's linear fast path uses. Matching those operations
// one by one is what makes the output equal ITK's to the voxel, because the
// final cast truncates and a last-bit difference can cross an integer.
func mapAxis(n, outN int, spacing, sign, origin float64, scanline bool) axisMap {
	m := axisMap{inside: make([]bool, outN), base: make([]int, outN), next: make([]int, outN),
		dist: make([]float64, outN), near: make([]int, outN)}
	inv := 1 / float64(sign*spacing)
	cont := func(k int) float64 {
		p := float64(origin + float64(sign*float64(k)))
		return float64(inv * float64(p-origin))
	}
	var start, end float64
	if scanline {
		start, end = cont(0), cont(outN)
	}
	lo, hi := -0.5, float64(n-1)+0.5
	for k := range outN {
		var c float64
		if scanline {
			alpha := float64(k) / float64(outN)
			c = float64(start + float64(alpha*float64(end-start)))
		} else {
			c = cont(k)
		}
		if !(c >= lo && c < hi) {
			continue
		}
		m.inside[k] = true
		b := int(math.Floor(c))
		if b < 0 {
			b = 0
		}
		d := float64(c - float64(b))
		nx := b + 1
		if d <= 0 {
			d, nx = 0, b
		}
		if nx > n-1 {
			nx = b
		}
		m.base[k], m.next[k], m.dist[k] = b, nx, d
		m.near[k] = min(int(math.Floor(c+0.5)), n-1) // ITK's RoundHalfIntegerUp
	}
	return m
}

// lerp is ITK's a + (b − a)·t with each operation rounded on its own.
func lerp(a, b, t float64) float64 { return float64(a + float64(float64(b-a)*t)) }

// castInt16 is ITK's CastComponentWithBoundsChecking: clamp, then truncate
// toward zero.
func castInt16(v float64) int16 {
	switch {
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= math.MaxInt16:
		return math.MaxInt16
	}
	return int16(v)
}

// resampler holds the per-axis maps of one resampling.
type resampler struct {
	in, out grid.Geometry
	ax      [3]axisMap // x, y, z
}

func newResampler(in, out grid.Geometry) (*resampler, error) {
	sIn, err := axisSigns(in)
	if err != nil {
		return nil, err
	}
	sOut, err := axisSigns(out)
	if err != nil {
		return nil, err
	}
	if sIn != sOut || in.Origin != out.Origin || out.Spacing != [3]float64{1, 1, 1} {
		return nil, fmt.Errorf("resampling supports only the 1 mm grid of the same origin and direction")
	}
	r := &resampler{in: in, out: out}
	for a := range 3 {
		r.ax[a] = mapAxis(in.Shape[2-a], out.Shape[2-a], in.Spacing[a], sIn[a], in.Origin[a], a == 0)
	}
	return r, nil
}

// Linear resamples a CT volume (z, y, x order) from geometry in to
// the 1 mm grid out exactly as SimpleITK's linear ResampleImageFilter does,
// except that points outside the scan get pad instead of 0. The work is
// three 1-D passes (x, y, then z, ITK's order of operations), done one
// output slice at a time so memory stays near the input plus the output,
// with output slices split among workers.
func Linear(ctx context.Context, src []int16, in, out grid.Geometry, pad int16, workers int) ([]int16, error) {
	r, err := newResampler(in, out)
	if err != nil {
		return nil, err
	}
	if len(src) != in.Voxels() {
		return nil, fmt.Errorf("resample: %d voxels for a grid of %v", len(src), in.Shape)
	}
	dst := make([]int16, out.Voxels())
	err = workpool.Slabs(ctx, out.Shape[0], workers, func(z0, z1 int) error {
		return r.linearSlab(ctx, src, dst, pad, z0, z1)
	})
	return dst, err
}

// planeCache keeps the x- and y-interpolated version of the input planes
// recently used, since consecutive output slices share input planes.
type planeCache struct {
	keys   [2]int
	planes [2][]float64
	rows   []float64 // x-pass scratch: input rows × output columns
}

func (r *resampler) linearSlab(ctx context.Context, src, dst []int16, pad int16, z0, z1 int) error {
	nyIn, nxIn := r.in.Shape[1], r.in.Shape[2]
	nyOut, nxOut := r.out.Shape[1], r.out.Shape[2]
	ax, ay, az := &r.ax[0], &r.ax[1], &r.ax[2]
	pc := &planeCache{keys: [2]int{-1, -1}, rows: make([]float64, nyIn*nxOut)}
	for i := range pc.planes {
		pc.planes[i] = make([]float64, nyOut*nxOut)
	}
	// plane returns input plane z interpolated onto the output x-y grid,
	// never evicting plane keep.
	plane := func(z, keep int) []float64 {
		for i, k := range pc.keys {
			if k == z {
				return pc.planes[i]
			}
		}
		slot := 0
		if pc.keys[0] == keep {
			slot = 1
		}
		pc.keys[slot] = z
		p := pc.planes[slot]
		in := src[z*nyIn*nxIn : (z+1)*nyIn*nxIn]
		for y := range nyIn { // x pass over every input row
			row := in[y*nxIn : (y+1)*nxIn]
			out := pc.rows[y*nxOut : (y+1)*nxOut]
			for kx := range nxOut {
				if ax.inside[kx] {
					out[kx] = lerp(float64(row[ax.base[kx]]), float64(row[ax.next[kx]]), ax.dist[kx])
				}
			}
		}
		for ky := range nyOut { // y pass
			if !ay.inside[ky] {
				continue
			}
			a := pc.rows[ay.base[ky]*nxOut : (ay.base[ky]+1)*nxOut]
			b := pc.rows[ay.next[ky]*nxOut : (ay.next[ky]+1)*nxOut]
			o := p[ky*nxOut : (ky+1)*nxOut]
			t := ay.dist[ky]
			for kx := range nxOut {
				o[kx] = lerp(a[kx], b[kx], t)
			}
		}
		return p
	}
	for kz := z0; kz < z1; kz++ {
		if kz%8 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		o := dst[kz*nyOut*nxOut : (kz+1)*nyOut*nxOut]
		if !az.inside[kz] {
			fill(o, pad)
			continue
		}
		lo := plane(az.base[kz], -1)
		var hi []float64
		t := az.dist[kz]
		if az.next[kz] != az.base[kz] {
			hi = plane(az.next[kz], az.base[kz])
		}
		for ky := range nyOut {
			orow := o[ky*nxOut : (ky+1)*nxOut]
			if !ay.inside[ky] {
				fill(orow, pad)
				continue
			}
			l := lo[ky*nxOut : (ky+1)*nxOut]
			for kx := range nxOut {
				if !ax.inside[kx] {
					orow[kx] = pad
					continue
				}
				v := l[kx]
				if hi != nil {
					v = lerp(v, hi[ky*nxOut+kx], t)
				}
				orow[kx] = castInt16(v)
			}
		}
	}
	return nil
}

// Nearest puts a label mask onto the 1 mm grid by nearest
// neighbour, as ITK's NearestNeighborInterpolateImageFunction does; voxels
// outside the source get 0.
func Nearest(ctx context.Context, src []uint8, in, out grid.Geometry, workers int) ([]uint8, error) {
	r, err := newResampler(in, out)
	if err != nil {
		return nil, err
	}
	if len(src) != in.Voxels() {
		return nil, fmt.Errorf("resample: %d voxels for a grid of %v", len(src), in.Shape)
	}
	dst := make([]uint8, out.Voxels())
	nyIn, nxIn := in.Shape[1], in.Shape[2]
	nyOut, nxOut := out.Shape[1], out.Shape[2]
	ax, ay, az := &r.ax[0], &r.ax[1], &r.ax[2]
	err = workpool.Slabs(ctx, out.Shape[0], workers, func(z0, z1 int) error {
		for kz := z0; kz < z1; kz++ {
			if !az.inside[kz] {
				continue
			}
			for ky := range nyOut {
				if !ay.inside[ky] {
					continue
				}
				row := src[(az.near[kz]*nyIn+ay.near[ky])*nxIn:][:nxIn]
				o := dst[(kz*nyOut+ky)*nxOut:][:nxOut]
				for kx := range nxOut {
					if ax.inside[kx] {
						o[kx] = row[ax.near[kx]]
					}
				}
			}
		}
		return nil
	})
	return dst, err
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
