package lungseg

import (
	"bytes"
	"math"
)

// The airway: the trachea found near the top of the scan and followed
// down to the main bronchi, label 5, never lung (Segment, step 3).

// growAirway finds the trachea in the top slice with inside air and
// follows the airway down, slice by slice, marking it segAirway and
// returning its voxels. Below the first slice only the lumen blobs that
// overlap the airway above matter, so they are found by flooding from
// those pixels: the work is proportional to the airway, not to the
// slices.
func growAirway(seg []uint8, hu []int16, shape [3]int) []int32 {
	g := &airwayGrowth{seg: seg, hu: hu, shape: shape, plane: shape[1] * shape[2], mark: make([]uint32, shape[1]*shape[2])}
	// The start: the trachea is a mid-sized lumen blob near the middle of
	// the body, in one of the first slices (from the top) that hold inside
	// air. Slices whose lumen is only a few partial-volume pixels are
	// passed over; the search gives up after maxTracheaSearch slices (an
	// abdominal scan shows no trachea).
	searched := 0
	for z := shape[0] - 1; z >= 0 && searched <= maxTracheaSearch; z-- {
		best, inside := g.trachea(z)
		if !inside {
			continue
		}
		searched++
		if best == nil {
			continue
		}
		g.take(z*g.plane, best)
		// Up to the top of the volume through any inside air (partial
		// volume makes the lumen there brighter), then down to the bronchi
		// through the lumen.
		g.follow(z+1, 1, best, g.insideAir)
		g.follow(z-1, -1, best, g.lumen)
		if lowest, ok := tracheaLike(g.airway, seg, shape); !ok {
			// Gas in the bowel or stomach near the body's middle: give it
			// back and search below it.
			for _, i := range g.airway {
				seg[i] = segAir
			}
			g.airway = g.airway[:0]
			z = lowest
			continue
		}
		return g.airway
	}
	return nil
}

// airwayGrowth is growAirway's state: the buffers, the pixels seen in the
// current slice (mark[p] == stamp) and the airway so far.
type airwayGrowth struct {
	seg    []uint8
	hu     []int16
	shape  [3]int
	plane  int
	mark   []uint32
	stamp  uint32
	queue  []int32
	airway []int32
}

// lumen tells an airway lumen pixel: darker than lumenHU, or at the
// middle of a 3 × 3 patch darker on average than lumenMeanHU (noise of a
// low-dose scan or a sharp kernel, σ 100 HU and more, brightens a third
// of the trachea's pixels past the threshold, and the mean of nine
// brings σ down threefold).
func (g *airwayGrowth) lumen(i int) bool {
	if g.seg[i] != segAir {
		return false
	}
	hu, nx := g.hu, g.shape[2]
	if hu[i] < lumenHU {
		return true
	}
	p := i % g.plane
	x, y := p%nx, p/nx
	if x == 0 || y == 0 || x == nx-1 || y == g.shape[1]-1 {
		return false
	}
	sum := 0
	for _, r := range [3]int{i - nx, i, i + nx} {
		sum += int(hu[r-1]) + int(hu[r]) + int(hu[r+1])
	}
	return sum < 9*lumenMeanHU
}

func (g *airwayGrowth) insideAir(i int) bool { return g.seg[i] == segAir }

// blob floods the blob of pixels of the slice at base holding p that
// pass in, and marks them seen.
func (g *airwayGrowth) blob(base, p int, in func(int) bool) []int32 {
	ny, nx := g.shape[1], g.shape[2]
	var px []int32
	g.queue = append(g.queue[:0], int32(p))
	g.mark[p] = g.stamp
	for len(g.queue) > 0 {
		q := int(g.queue[len(g.queue)-1])
		g.queue = g.queue[:len(g.queue)-1]
		px = append(px, int32(q))
		x, y := q%nx, q/nx
		for _, n := range [4]int{q - 1, q + 1, q - nx, q + nx} {
			if (n == q-1 && x == 0) || (n == q+1 && x == nx-1) || (n == q-nx && y == 0) || (n == q+nx && y == ny-1) {
				continue
			}
			if g.mark[n] != g.stamp && in(base+n) {
				g.mark[n] = g.stamp
				g.queue = append(g.queue, int32(n))
			}
		}
	}
	return px
}

// take marks the pixels px of the slice at base as airway.
func (g *airwayGrowth) take(base int, px []int32) {
	for _, p := range px {
		g.seg[base+int(p)] = segAirway
		g.airway = append(g.airway, int32(base+int(p)))
	}
}

// trachea returns the slice's lumen blob most like the trachea: of a
// trachea's area and nearest the body's middle, within maxTracheaOffset;
// inside is false when the slice holds no inside air at all.
func (g *airwayGrowth) trachea(z int) (best []int32, inside bool) {
	base, nx := z*g.plane, g.shape[2]
	cx0, inside := bodyCentreX(g.seg[base:base+g.plane], nx)
	if !inside {
		return nil, false
	}
	g.stamp++
	bestD := 0.0
	for p := range g.plane {
		if g.mark[p] == g.stamp || !g.lumen(base+p) {
			continue
		}
		px := g.blob(base, p, g.lumen)
		if len(px) < minTracheaArea || len(px) > maxAirwayArea {
			continue
		}
		cx := 0.0
		for _, q := range px {
			cx += float64(int(q) % nx)
		}
		d := math.Abs(cx/float64(len(px)) - cx0)
		if d > maxTracheaOffset {
			continue
		}
		if best == nil || d < bestD {
			best, bestD = px, d
		}
	}
	return best, true
}

// follow marks the airway slice by slice from z in direction dz: the
// blobs that pass in and overlap the airway of the slice before, while
// their cross-section stays an airway's.
func (g *airwayGrowth) follow(z, dz int, prev []int32, in func(int) bool) {
	for ; z >= 0 && z < g.shape[0] && len(prev) > 0; z += dz {
		base := z * g.plane
		g.stamp++
		var next []int32
		area := 0
		for _, p := range prev {
			if g.mark[p] == g.stamp || !in(base+int(p)) {
				continue
			}
			px := g.blob(base, int(p), in)
			if len(px) > maxAirwayArea {
				continue // one blob this large is a lung, not a bronchus
			}
			area += len(px)
			next = append(next, px...)
		}
		if area > maxAirwayArea {
			return // leaking into a lung: stop here
		}
		g.take(base, next)
		prev = next
	}
}

// Trachea checks (tracheaLike).
const (
	// minTracheaLength (mm) is the least run along z of a trachea.
	minTracheaLength = 20
	// minLungBeside (mm²) is the inside air a slice must hold on each side
	// of the trachea, 10 mm or more from it, for lungs to be beside it.
	minLungBeside = 2000
)

// tracheaLike reports whether an airway grown from a trachea candidate is
// one: a tube at least minTracheaLength long with lungs on both sides of
// it in some slice it crosses. A gas pocket of the stomach or colon near
// the body's middle, the candidate of an abdominal scan, is neither. It
// also returns the lowest slice the airway reaches.
func tracheaLike(airway []int32, seg []uint8, shape [3]int) (lowest int, ok bool) {
	ny, nx := shape[1], shape[2]
	plane := ny * nx
	lowest, top := shape[0], -1
	sumX := map[int][2]int{} // per slice: sum of x, count
	for _, v := range airway {
		z, x := int(v)/plane, int(v)%nx
		lowest, top = min(lowest, z), max(top, z)
		s := sumX[z]
		sumX[z] = [2]int{s[0] + x, s[1] + 1}
	}
	if top-lowest+1 < minTracheaLength {
		return lowest, false
	}
	// From the lowest slice up: the lungs are largest near the carina.
	for z := lowest; z <= top; z++ {
		s := sumX[z]
		if s[1] == 0 {
			continue
		}
		cx := s[0] / s[1]
		left, right := 0, 0
		sl := seg[z*plane : (z+1)*plane]
		for y := range ny {
			row := sl[y*nx : (y+1)*nx]
			left += bytes.Count(row[:max(cx-10, 0)], []byte{segAir})
			right += bytes.Count(row[min(cx+10, nx):], []byte{segAir})
		}
		if left >= minLungBeside && right >= minLungBeside {
			return lowest, true
		}
	}
	return lowest, false
}

// bodyCentreX returns the mean x of a slice's body (every pixel not
// outside), and whether the slice holds any inside air.
func bodyCentreX(s []uint8, nx int) (float64, bool) {
	sum, n, inside := 0, 0, false
	for p, v := range s {
		if v != segOutside {
			sum += p % nx
			n++
			inside = inside || v == segAir
		}
	}
	if n == 0 {
		return 0, false
	}
	return float64(sum) / float64(n), inside
}
