package ingest

import "sort"

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

// Passing marks of the segmentation buffer, used within one slice here.
const (
	segVisit   = 8 // being visited
	segAirKept = 9 // air decided inside, turned back into segAir at the end
)

// outsideOfCutBody marks the outside air (segOutside) of a slice whose
// body is cut by the field of view, and reports whether it did; when it
// did not, the slice is not cut and the caller floods from the border.
// s holds segTissue and segAir, h the slice's HU; tissue is how many
// pixels of s are segTissue.
func outsideOfCutBody(s []uint8, h []int16, ny, nx, tissue int, q *[]int32) bool {
	edge := func(i int) bool {
		x, y := i%nx, i/nx
		if x == 0 || y == 0 || x == nx-1 || y == ny-1 {
			return true
		}
		return h[i-1] < padLikeHU || h[i+1] < padLikeHU || h[i-nx] < padLikeHU || h[i+nx] < padLikeHU
	}
	// Tissue touching the edge, cheaply: most slices have none or only the
	// table, and stop here. The padding of a reconstruction circle lies at
	// the ends of the rows, so only the pixels between each row's padding
	// and the padding of the rows above and below need a look.
	lo, hi := make([]int, ny), make([]int, ny) // each row's span inside the padding
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
	if len(contact) < minCutContact {
		return false
	}
	// The tissue components that touch the edge. The body is every one of
	// them that holds a good part of the slice's tissue (the airways can
	// cut the mediastinum in two), and together they must hold most of
	// it, so the table or an arm touching the edge is not taken for it.
	// Visited pixels are marked in s itself (segVisit) and put back after.
	var pix []int32          // the visited pixels, component after component
	var bodyParts [][2]int32 // the body's components: ranges of pix
	bodySize := 0
	for _, c := range contact {
		if s[c] != segTissue {
			continue
		}
		first := int32(len(pix))
		touch := 0
		stack := append((*q)[:0], c)
		s[c] = segVisit
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			pix = append(pix, i)
			if edge(int(i)) {
				touch++
			}
			x := int(i) % nx
			for _, n := range [4]int32{i - 1, i + 1, i - int32(nx), i + int32(nx)} {
				if n < 0 || int(n) >= len(s) || (n == i-1 && x == 0) || (n == i+1 && x == nx-1) {
					continue
				}
				if s[n] == segTissue {
					s[n] = segVisit
					stack = append(stack, n)
				}
			}
		}
		*q = stack
		if size := len(pix) - int(first); float64(size) >= minPartShare*float64(tissue) && touch >= minCutContact {
			bodyParts = append(bodyParts, [2]int32{first, int32(len(pix))})
			bodySize += size
		}
	}
	for _, i := range pix {
		s[i] = segTissue
	}
	if float64(bodySize) < minBodyShare*float64(tissue) {
		return false
	}
	// The body's convex hull, as an x range per row.
	rowLo, rowHi := make([]int32, ny), make([]int32, ny)
	for y := range ny {
		rowLo[y], rowHi[y] = -1, -1
	}
	for _, part := range bodyParts {
		for _, i := range pix[part[0]:part[1]] {
			y, x := int(i)/nx, i%int32(nx)
			if rowLo[y] < 0 || x < rowLo[y] {
				rowLo[y] = x
			}
			rowHi[y] = max(rowHi[y], x)
		}
	}
	inHull := hullRows(rowLo, rowHi)
	// The padding grown by edgeBand pixels: resampling blends padding and
	// tissue at the edge of the circle into values that look like air, a
	// thin seam that would join a cut lung to the air around the body.
	band := make([]bool, len(s))
	for i, v := range h {
		band[i] = v < padLikeHU
	}
	grown := make([]bool, len(s))
	for range edgeBand {
		copy(grown, band)
		for i, b := range band {
			if b {
				continue
			}
			x := i % nx
			grown[i] = (x > 0 && band[i-1]) || (x < nx-1 && band[i+1]) || (i >= nx && band[i-nx]) || (i+nx < len(s) && band[i+nx])
		}
		band, grown = grown, band
	}
	// Air regions (the band excluded) that touch the edge are outside
	// when most of them lies outside the hull; the others go back to air.
	var region []int32
	for i := range s {
		if s[i] != segAir {
			continue
		}
		if band[i] {
			s[i] = segOutside
			continue
		}
		stack := append((*q)[:0], int32(i))
		s[i] = segVisit
		region = region[:0]
		touches, in := false, 0
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			region = append(region, j)
			y, x := int(j)/nx, int(j)%nx
			if x == 0 || y == 0 || x == nx-1 || y == ny-1 {
				touches = true
			}
			if r := inHull[y]; x >= r[0] && x <= r[1] {
				in++
			}
			for _, n := range [4]int32{j - 1, j + 1, j - int32(nx), j + int32(nx)} {
				if n < 0 || int(n) >= len(s) || (n == j-1 && x == 0) || (n == j+1 && x == nx-1) {
					continue
				}
				if band[n] {
					touches = true
				} else if s[n] == segAir {
					s[n] = segVisit
					stack = append(stack, n)
				}
			}
		}
		*q = stack
		mark := uint8(segAirKept)
		if touches && 2*in <= len(region) {
			mark = segOutside
		}
		for _, j := range region {
			s[j] = mark
		}
	}
	for i, v := range s {
		if v == segAirKept {
			s[i] = segAir
		}
	}
	return true
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
	// Each row's range: where the hull's edges cross it.
	for y := range out {
		xl, xr := 1<<30, -1<<30
		for k := range hull {
			a, b := hull[k], hull[(k+1)%len(hull)]
			if (a.y < y && b.y < y) || (a.y > y && b.y > y) {
				continue
			}
			if a.y == b.y {
				xl, xr = min(xl, a.x, b.x), max(xr, a.x, b.x)
				continue
			}
			x := a.x + (b.x-a.x)*(y-a.y)/(b.y-a.y)
			xl, xr = min(xl, x), max(xr, x)
		}
		if xl <= xr {
			out[y] = [2]int{xl, xr}
		}
	}
	return out
}
