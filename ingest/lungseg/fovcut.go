package lungseg

import (
	"encoding/binary"
	"math"
	"sort"
)

// Bodies cut by the field of view.
//
// Flooding a slice's air from its border finds the air around the body,
// as long as the body lies wholly inside the reconstruction circle. A
// reconstruction smaller than the chest (a zoomed or cropped field of
// view, a large patient) cuts the body, and where it cuts a lung, the
// lung's air touches the padding, so the flood takes the lung for
// outside air: 0.3 L of lung found instead of 3 L.
//
// So when the body itself runs into the edge of the field of view, a
// slice is read differently. Padding (far below the −1000 HU of air) is
// outside but no longer carries the flood, and each air region touching
// the edge is outside only if most of it lies outside the convex hull of
// the body: the air around a convex body does, the air of a lung cut by
// the circle, enclosed by the chest wall on both sides of the cut, does
// not.

const (
	// padLikeHU is below anything a scanner measures in a patient or in
	// air (−1000): the padding outside the reconstruction circle, −2048,
	// −3024 and the like, stays below it after resampling. (Padding of
	// −1024 or 0 cannot be told from air or tissue.)
	padLikeHU = -1200
	// minCutContact is how many pixels (mm) of the body must touch the
	// edge of the field of view before a slice counts as cut.
	minCutContact = 15
	// minBodyShare is the share of a slice's tissue the body holds, so the
	// table or an arm touching the edge is not taken for it.
	minBodyShare = 0.3
	// minPartShare is the least share of the tissue a part of the body
	// cut off from the rest holds.
	minPartShare = 0.1
	// edgeBand is how far (pixels) the padding is grown before air
	// regions are told apart.
	edgeBand = 2
)

// outsideOfCutBody marks the outside air (segOutside) of a slice whose
// body is cut by the field of view, and reports whether it did; when it
// did not, the slice is not cut and the caller floods from the border.
// s holds segTissue and segAir, h the slice's HU; tissue is how many
// pixels of s are segTissue; lo[y]…hi[y] is each row's span inside the
// padding (paddingSpans).
func outsideOfCutBody(s []uint8, h []int16, ny, nx, tissue int, lo, hi []int, q *[]int32) bool {
	c := &cutSlice{s: s, h: h, ny: ny, nx: nx, lo: lo, hi: hi, q: q}
	contact := c.edgeTissue()
	if len(contact) < minCutContact {
		return false
	}
	runs, parts, bodySize := c.bodyParts(contact, tissue)
	if float64(bodySize) < minBodyShare*float64(tissue) {
		return false
	}
	c.inHull = c.hull(runs, parts)
	c.growBand()
	c.markBand()
	c.sortEdgeAir()
	return true
}

// cutSlice is a slice whose body the field of view may cut, as
// outsideOfCutBody reads it stage by stage.
type cutSlice struct {
	s      []uint8
	h      []int16
	ny, nx int
	lo, hi []int // each row's span inside the padding
	q      *[]int32

	inHull         [][2]int // the body's convex hull, an x range per row
	bandLo, bandHi []int    // x < bandLo[y] or x > bandHi[y]: within edgeBand of the padding
}

// edgeTissue returns the tissue pixels touching the edge, cheaply: most
// slices have none or only the table, and stop there. The padding of a
// reconstruction circle lies at the ends of the rows, so only the pixels
// between each row's padding and the padding of the rows above and below
// need a look.
func (c *cutSlice) edgeTissue() []int32 {
	s, ny, nx, lo, hi := c.s, c.ny, c.nx, c.lo, c.hi
	var contact []int32
	add := func(y, x0, x1 int) {
		for x := max(x0, lo[y]); x <= min(x1, hi[y]); x++ {
			if i := y*nx + x; s[i] == segTissue && (len(contact) == 0 || contact[len(contact)-1] != int32(i)) {
				contact = append(contact, int32(i))
			}
		}
	}
	for y := range ny {
		if lo[y] > hi[y] {
			continue
		}
		if y == 0 || y == ny-1 {
			add(y, 0, nx-1)
			continue
		}
		add(y, lo[y], lo[y])
		add(y, hi[y], hi[y])
		for _, n := range [2]int{y - 1, y + 1} {
			if lo[n] > hi[n] { // a row of padding only
				add(y, 0, nx-1)
				continue
			}
			add(y, lo[y]+1, lo[n]-1)
			add(y, hi[n]+1, hi[y]-1)
		}
	}
	return contact
}

// bodyParts finds the tissue components that touch the edge. The body is
// every one of them that holds a good part of the slice's tissue (the
// airways can cut the mediastinum in two), and together they must hold
// most of it (the caller checks bodySize), so the table or an arm touching
// the edge is not taken for it. It returns the visited runs (y, first x,
// last x), component after component, the body's components as ranges of
// runs, and the body's size. Visited pixels are marked in s itself
// (segVisit) and put back before it returns.
func (c *cutSlice) bodyParts(contact []int32, tissue int) (runs [][3]int, parts [][2]int, bodySize int) {
	for _, p := range contact {
		if c.s[p] != segTissue {
			continue
		}
		first, size, touch := len(runs), 0, 0
		fillRuns(c.s, c.ny, c.nx, int(p), segTissue, c.q, func(y, l, r int) {
			runs = append(runs, [3]int{y, l, r})
			size += r - l + 1
			touch += edgeContact(y, l, r, c.lo, c.hi)
		})
		if float64(size) >= minPartShare*float64(tissue) && touch >= minCutContact {
			parts = append(parts, [2]int{first, len(runs)})
			bodySize += size
		}
	}
	for _, run := range runs {
		clearRun(c.s, run, c.nx, segTissue)
	}
	return runs, parts, bodySize
}

// hull returns the convex hull of the body's runs, as an x range per row.
func (c *cutSlice) hull(runs [][3]int, parts [][2]int) [][2]int {
	rowLo, rowHi := make([]int32, c.ny), make([]int32, c.ny)
	for y := range c.ny {
		rowLo[y], rowHi[y] = -1, -1
	}
	for _, part := range parts {
		for _, run := range runs[part[0]:part[1]] {
			y := run[0]
			if rowLo[y] < 0 || int32(run[1]) < rowLo[y] {
				rowLo[y] = int32(run[1])
			}
			rowHi[y] = max(rowHi[y], int32(run[2]))
		}
	}
	return hullRows(rowLo, rowHi)
}

// growBand grows the padding by edgeBand pixels: resampling blends
// padding and tissue at the edge of the circle into values that look like
// air, a thin seam that would join a cut lung to the air around the body.
// Grown from the padding at the row ends, per row: x < bandLo[y] or
// x > bandHi[y] lies within edgeBand pixels (4-steps) of it.
func (c *cutSlice) growBand() {
	ny, nx, lo, hi := c.ny, c.nx, c.lo, c.hi
	c.bandLo, c.bandHi = make([]int, ny), make([]int, ny)
	for y := range ny {
		c.bandLo[y], c.bandHi[y] = 0, nx-1
		for dy := -edgeBand; dy <= edgeBand; dy++ {
			n := y + dy
			if n < 0 || n >= ny {
				continue
			}
			d := edgeBand - max(dy, -dy)
			if lo[n] > hi[n] { // a row of padding only
				c.bandLo[y], c.bandHi[y] = nx, -1
				break
			}
			c.bandLo[y] = max(c.bandLo[y], lo[n]+d)
			c.bandHi[y] = min(c.bandHi[y], hi[n]-d)
		}
	}
}

// inBand tells a pixel in the grown padding, or padding itself.
func (c *cutSlice) inBand(i int) bool {
	x, y := i%c.nx, i/c.nx
	return x < c.bandLo[y] || x > c.bandHi[y] || c.h[i] < padLikeHU
}

// markBand marks the band's air outside: the ends of each row, and any
// padding between them.
func (c *cutSlice) markBand() {
	nx := c.nx
	for y := range c.ny {
		row, hrow := c.s[y*nx:(y+1)*nx], c.h[y*nx:(y+1)*nx]
		l, r := min(max(c.bandLo[y], 0), nx), max(min(c.bandHi[y], nx-1), -1)
		for x := range l {
			if row[x] == segAir {
				row[x] = segOutside
			}
		}
		for x := max(r+1, l); x < nx; x++ {
			if row[x] == segAir {
				row[x] = segOutside
			}
		}
		for x := l; x <= r; x++ {
			if hrow[x] < padLikeHU && row[x] == segAir { // padding first: it is rare here
				row[x] = segOutside
			}
		}
	}
}

// sortEdgeAir decides the air regions (the band excluded): one that
// touches the edge is outside when most of it lies outside the hull; the
// others go back to air. Each region is filled a run of a row at a time,
// counting its pixels, those inside the hull, and whether it meets the
// band or the border.
func (c *cutSlice) sortEdgeAir() {
	s, ny, nx := c.s, c.ny, c.nx
	var runs, kept [][3]int
	for i := 0; i < len(s); i++ {
		for i+8 <= len(s) && !hasByte(binary.LittleEndian.Uint64(s[i:i+8]), segAir) {
			i += 8
		}
		if i >= len(s) || s[i] != segAir {
			continue
		}
		runs = runs[:0]
		touches, in, size := false, 0, 0
		fillRuns(s, ny, nx, i, segAir, c.q, func(y, l, r int) {
			runs = append(runs, [3]int{y, l, r})
			size += r - l + 1
			if hr := c.inHull[y]; hr[0] <= hr[1] {
				in += max(0, min(r, hr[1])-max(l, hr[0])+1)
			}
			// The border, or the band beside the run or in the rows next to it.
			row := y * nx
			if y == 0 || y == ny-1 || l == 0 || r == nx-1 || c.inBand(row+l-1) || c.inBand(row+r+1) {
				touches = true
				return
			}
			for _, n := range [2]int{y - 1, y + 1} {
				if l < c.bandLo[n] || r > c.bandHi[n] {
					touches = true
				}
			}
		})
		mark := uint8(segAirKept)
		if touches && 2*in <= size {
			mark = segOutside
		} else {
			kept = append(kept, runs...)
		}
		for _, run := range runs {
			clearRun(s, run, nx, mark)
		}
	}
	for _, run := range kept {
		clearRun(s, run, nx, segAir)
	}
}

// paddingSpans sets lo[y]…hi[y] to each row's span inside the padding
// outside the field of view (lo > hi: a row of padding only), and reports
// whether that padding holds a value air or tissue can hold too.
//
// Padding far below air (−2048, −3024) is told by its value. Padding of
// −1024 or 0 is not, so it is found by its shape: the four corners of the
// slice hold one value exactly, and the runs of that value at the ends of
// the rows leave a disc, the reconstruction circle, that the rows' spans
// follow to within maxDiscError (the 1 mm grid blends a pixel at its
// edge). Real air or tissue is noisy and fills no such shape.
func paddingSpans(h []int16, ny, nx int, lo, hi []int) bool {
	if v := h[0]; v >= padLikeHU && h[nx-1] == v && h[(ny-1)*nx] == v && h[ny*nx-1] == v && disc(h, ny, nx, v, lo, hi) {
		return true
	}
	for y := range ny {
		row := h[y*nx : (y+1)*nx]
		l, r := 0, nx-1
		for l <= r && row[l] < padLikeHU {
			l++
		}
		for r >= l && row[r] < padLikeHU {
			r--
		}
		lo[y], hi[y] = l, r
	}
	return false
}

const (
	// maxDiscError (pixels) is how far a row's span may end from the
	// fitted circle.
	maxDiscError = 2.5
	// minOnDisc is the share of rows whose spans must follow the circle
	// (air of exactly the padding value beside it moves a few).
	minOnDisc = 0.8
)

// disc sets lo/hi to the spans left by the runs of v at the ends of each
// row and reports whether they follow a circle. The circle is fitted with
// medians, so that rows where air of exactly v, or tissue, moves a span's
// end do not move it: its centre's x from the middles of the spans, its
// y from pairs of rows (two chords of one circle fix the height of its
// centre), its radius from every row.
func disc(h []int16, ny, nx int, v int16, lo, hi []int) bool {
	var rows []int
	for y := range ny {
		row := h[y*nx : (y+1)*nx]
		l, r := 0, nx-1
		for l <= r && row[l] == v {
			l++
		}
		for r >= l && row[r] == v {
			r--
		}
		lo[y], hi[y] = l, r
		if l <= r {
			rows = append(rows, y)
		}
	}
	if len(rows) < 16 {
		return false
	}
	est := make([]float64, 0, len(rows))
	for _, y := range rows {
		est = append(est, float64(lo[y]+hi[y])/2)
	}
	cx := median(est)
	half := func(y int) float64 { return float64(hi[y]-lo[y]+1) / 2 }
	est = est[:0]
	m := len(rows) / 2
	for i := range m {
		a, b := rows[i], rows[i+m]
		wa, wb := half(a), half(b)
		est = append(est, (wa*wa-wb*wb+float64(a*a-b*b))/float64(2*(a-b)))
	}
	cy := median(est)
	est = est[:0]
	for _, y := range rows {
		est = append(est, math.Hypot(half(y), float64(y)-cy))
	}
	radius := median(est)
	on := 0
	for _, y := range rows {
		dy := float64(y) - cy
		rl := math.Hypot(float64(lo[y])-0.5-cx, dy)
		rr := math.Hypot(float64(hi[y])+0.5-cx, dy)
		if math.Abs(rl-radius) <= maxDiscError && math.Abs(rr-radius) <= maxDiscError {
			on++
		}
	}
	return float64(on) >= minOnDisc*float64(len(rows))
}

// median returns the median of v, reordering it.
func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// fillRuns fills the 4-connected region of the pixels of value want
// around seed (a runFill in the slice), marking them segVisit and calling
// run with each run's row and first and last x.
func fillRuns(s []uint8, ny, nx, seed int, want uint8, q *[]int32, run func(y, l, r int)) {
	f := runFill{s: s, ny: ny, nx: nx, z0: 0, z1: 1, want: want, mark: segVisit, stack: append((*q)[:0], int32(seed))}
	f.run(run)
	*q = f.stack
}

// clearRun sets a run's pixels to v.
func clearRun(s []uint8, run [3]int, nx int, v uint8) {
	row := run[0] * nx
	for k := row + run[1]; k <= row+run[2]; k++ {
		s[k] = v
	}
}

// edgeContact is about how many pixels of a tissue run in row y touch the
// edge of the field of view: the border rows, the padding at the run's
// ends, and the padding of the rows above and below it (each row's span
// inside the padding is lo..hi).
func edgeContact(y, l, r int, lo, hi []int) int {
	ny := len(lo)
	if y == 0 || y == ny-1 {
		return r - l + 1
	}
	n := 0
	if l <= lo[y] {
		n++
	}
	if r >= hi[y] {
		n++
	}
	for _, m := range [2]int{y - 1, y + 1} {
		if lo[m] > hi[m] {
			n += r - l + 1
			continue
		}
		n += max(0, min(r, lo[m]-1)-l+1) + max(0, r-max(l, hi[m]+1)+1)
	}
	return n
}

// hullRows returns, per row, the x range [lo, hi] inside the convex hull
// of the points (lo[y], y) and (hi[y], y) of the rows that have them
// (lo[y] ≥ 0); rows outside the hull get an empty range.
func hullRows(lo, hi []int32) [][2]int {
	type pt struct{ x, y int }
	var pts []pt
	for y := range lo {
		if lo[y] >= 0 {
			pts = append(pts, pt{int(lo[y]), y}, pt{int(hi[y]), y})
		}
	}
	out := make([][2]int, len(lo))
	for y := range out {
		out[y] = [2]int{1, 0}
	}
	if len(pts) == 0 {
		return out
	}
	sort.Slice(pts, func(i, j int) bool {
		if pts[i].x != pts[j].x {
			return pts[i].x < pts[j].x
		}
		return pts[i].y < pts[j].y
	})
	cross := func(o, a, b pt) int { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	// Andrew's monotone chain.
	hull := make([]pt, 0, 2*len(pts))
	for _, p := range pts {
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	for i, t := len(pts)-2, len(hull)+1; i >= 0; i-- {
		p := pts[i]
		for len(hull) >= t && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	hull = hull[:len(hull)-1]
	// Each row's range: where the hull's edges cross it, edge by edge over
	// the rows each one spans.
	for y := range out {
		out[y] = [2]int{1 << 30, -1 << 30}
	}
	for k := range hull {
		a, b := hull[k], hull[(k+1)%len(hull)]
		for y := max(min(a.y, b.y), 0); y <= min(max(a.y, b.y), len(out)-1); y++ {
			r := &out[y]
			if a.y == b.y {
				r[0], r[1] = min(r[0], a.x, b.x), max(r[1], a.x, b.x)
				continue
			}
			x := a.x + (b.x-a.x)*(y-a.y)/(b.y-a.y)
			r[0], r[1] = min(r[0], x), max(r[1], x)
		}
	}
	for y := range out {
		if out[y][0] > out[y][1] {
			out[y] = [2]int{1, 0}
		}
	}
	return out
}
