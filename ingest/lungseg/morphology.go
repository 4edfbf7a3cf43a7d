package lungseg

import (
	"bytes"
	"context"
	"encoding/binary"
	"sort"

	"voxmine/internal/workpool"
)

// The morphology the lung segmentation is built from: slice flood fills,
// 3-D connected components, the ball closing (its distance transforms are
// in edt.go) and hole filling.

// parallelSlices runs fn for every z, spread over workers, each worker
// with its own queue buffer.
func parallelSlices(ctx context.Context, nz, workers int, fn func(z int, q *[]int32)) error {
	return workpool.Each(ctx, nz, workers, func() *[]int32 { return new([]int32) }, func(q *[]int32, z int) error {
		fn(z, q)
		return nil
	})
}

// floodBorder marks as outside every air pixel of a slice connected to
// its border (4-connectivity), by a runFill from every border pixel.
func floodBorder(s []uint8, ny, nx int, q *[]int32) {
	stack := (*q)[:0]
	for x := range nx {
		stack = append(stack, int32(x), int32((ny-1)*nx+x))
	}
	for y := range ny {
		stack = append(stack, int32(y*nx), int32(y*nx+nx-1))
	}
	f := runFill{s: s, ny: ny, nx: nx, z0: 0, z1: 1, want: segAir, mark: segOutside, stack: stack}
	f.run(nil)
	*q = f.stack
}

// component is a 3-D connected set of voxels, as runs along x, and its
// bounding box. Runs keep a lung of millions of voxels in a few hundred
// thousand entries, and turn the passes over it (statistics, labels, the
// medial limits, the split) into work per run.
type component struct {
	runs   []xrun
	size   int    // voxels
	lo, hi [3]int // z, y, x, inclusive
}

// xrun is the voxels x0…x1 of one row of the volume; row is z·ny + y, so
// the first voxel's index is row·nx + x0.
type xrun struct {
	row, x0, x1 int32
}

// components3D returns the 6-connected components of segAir voxels of
// 1000 voxels (1 cm³) or more, largest first (equal sizes in the order
// they were found), marking visited voxels segSeen. The two halves of the
// volume along z are labelled at once, one per core; components that meet
// across the cut are then joined.
func components3D(ctx context.Context, seg []uint8, shape [3]int, workers int) ([]component, error) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	cut := nz / 2
	if nz < 2 {
		cut = nz
	}
	halves := [2][2]int{{0, cut}, {cut, nz}}
	var parts [2][]component
	// ids[h] maps the pixels of half h's slice at the cut to its components.
	var ids [2][]int32
	err := workpool.Run(ctx, len(halves), workers, func(h int) error {
		zr := halves[h]
		ids[h] = make([]int32, plane)
		for i := range ids[h] {
			ids[h][i] = -1
		}
		edge := zr[1] - 1 // the last slice of the lower half
		if h == 1 {
			edge = zr[0] // the first slice of the upper half
		}
		parts[h] = labelRange(seg, shape, zr[0], zr[1], edge, ids[h])
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Join across the cut with a union-find over the components' numbers.
	n0 := len(parts[0])
	all := append(parts[0], parts[1]...)
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	if cut > 0 && cut < nz {
		for p := range plane {
			if a, b := ids[0][p], ids[1][p]; a >= 0 && b >= 0 {
				ra, rb := find(int(a)), find(n0+int(b))
				if ra != rb {
					parent[rb] = ra
				}
			}
		}
	}
	merged := make([]*component, len(all)) // by root
	var out []*component
	for i := range all {
		r := find(i)
		m := merged[r]
		if m == nil {
			m = &component{lo: all[i].lo, hi: all[i].hi}
			merged[r] = m
			out = append(out, m)
		}
		m.runs = append(m.runs, all[i].runs...)
		m.size += all[i].size
		for k := range 3 {
			m.lo[k], m.hi[k] = min(m.lo[k], all[i].lo[k]), max(m.hi[k], all[i].hi[k])
		}
	}
	var big []component
	for _, m := range out {
		if m.size >= 1000 { // a cubic centimetre: smaller pockets are not lung
			big = append(big, *m)
		}
	}
	sort.SliceStable(big, func(i, j int) bool { return big[i].size > big[j].size })
	return big, nil
}

// labelRange labels the components of segAir voxels with z0 ≤ z < z1,
// and records in ids which component each voxel of slice edge belongs to.
// Each component is filled a run at a time (runFill across the slices
// z0…z1).
func labelRange(seg []uint8, shape [3]int, z0, z1, edge int, ids []int32) []component {
	ny, nx := shape[1], shape[2]
	plane := ny * nx
	var out []component
	f := runFill{s: seg, ny: ny, nx: nx, z0: z0, z1: z1, want: segAir, mark: segSeen}
	end := z1 * plane
	for i := z0 * plane; i < end; i++ {
		// Most voxels are not air left to label: skip them 8 at a time.
		for i+8 <= end && !hasByte(binary.LittleEndian.Uint64(seg[i:i+8]), segAir) {
			i += 8
		}
		if i >= end {
			break
		}
		if seg[i] != segAir {
			continue
		}
		id := int32(len(out))
		c := component{lo: [3]int{z1, ny, nx}, hi: [3]int{-1, -1, -1}}
		f.stack = append(f.stack[:0], int32(i))
		f.run(func(row, x0, x1 int) {
			z, y := row/ny, row%ny
			c.runs = append(c.runs, xrun{int32(row), int32(x0), int32(x1)})
			c.size += x1 - x0 + 1
			c.lo = [3]int{min(c.lo[0], z), min(c.lo[1], y), min(c.lo[2], x0)}
			c.hi = [3]int{max(c.hi[0], z), max(c.hi[1], y), max(c.hi[2], x1)}
			if z == edge {
				for k := row*nx + x0; k <= row*nx+x1; k++ {
					ids[k-z*plane] = id
				}
			}
		})
		out = append(out, c)
	}
	return out
}

// splitAlongX cuts one component holding both lungs at the x column with
// the fewest voxels in its middle half.
func splitAlongX(c component, nx int) []component {
	diff := make([]int, nx+1) // voxels per column, as differences
	lo, hi := nx, 0
	for _, r := range c.runs {
		diff[r.x0]++
		diff[r.x1+1]--
		lo, hi = min(lo, int(r.x0)), max(hi, int(r.x1))
	}
	hist := make([]int, nx)
	for x, n := 0, 0; x < nx; x++ {
		n += diff[x]
		hist[x] = n
	}
	cut, best := (lo+hi)/2, -1
	for x := lo + (hi-lo)/4; x <= hi-(hi-lo)/4; x++ {
		if best < 0 || hist[x] < best {
			cut, best = x, hist[x]
		}
	}
	a, b := c, c
	a.runs, b.runs, a.size, b.size = nil, nil, 0, 0
	a.hi[2], b.lo[2] = cut-1, cut
	for _, r := range c.runs {
		if int(r.x0) < cut {
			ra := r
			ra.x1 = min(r.x1, int32(cut-1))
			a.runs = append(a.runs, ra)
			a.size += int(ra.x1-ra.x0) + 1
		}
		if int(r.x1) >= cut {
			rb := r
			rb.x0 = max(r.x0, int32(cut))
			b.runs = append(b.runs, rb)
			b.size += int(rb.x1-rb.x0) + 1
		}
	}
	return []component{a, b}
}

// closing returns the voxels that closing label l of out (lying within
// the box lo…hi) with a ball of radius r (mm) adds. It works on a grid of
// cell-mm cells (a cell holds lung if any of its voxels does; cell³ times
// less work for the distance transforms) and returns the voxels of the
// cells the closing adds, and of the cells inside the closed set that
// held some lung; the hole fill on the 1 mm grid then takes the vessels
// those cells missed. The grid covers the
// box grown by r + cell, reaching past the volume where it must so that
// the volume's edge does not erode the lung.
func closing(ctx context.Context, out []uint8, l uint8, lo, hi [3]int, shape [3]int, r, cell int) ([]int32, error) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	var cs [3]int // cells along z, y, x
	for k := range 3 {
		lo[k] -= r + cell
		hi[k] += r + cell
		cs[k] = (hi[k]-lo[k])/cell + 1
	}
	cplane := cs[1] * cs[2]
	coarse := make([]bool, cs[0]*cplane)
	xcell := make([]int, nx) // cell column of each x, for a raster scan without divisions
	for x := range nx {
		xcell[x] = (x - lo[2]) / cell
	}
	for z := max(lo[0], 0); z <= min(hi[0], nz-1); z++ {
		for y := max(lo[1], 0); y <= min(hi[1], ny-1); y++ {
			crow := coarse[((z-lo[0])/cell)*cplane+((y-lo[1])/cell)*cs[2]:]
			row := out[z*plane+y*nx : z*plane+y*nx+nx]
			for x := max(lo[2], 0); x <= min(hi[2], nx-1); x++ {
				if row[x] == l {
					crow[xcell[x]] = true
				}
			}
		}
	}
	dist := make([]int32, len(coarse))
	rr := int32(r * r / (cell * cell)) // the radius in cells, squared (distances are whole)
	if err := sqDistance(ctx, coarse, true, cs, dist, rr, 1); err != nil {
		return nil, err
	}
	dilated := make([]bool, len(coarse))
	for i, d := range dist {
		dilated[i] = d <= rr
	}
	if err := sqDistance(ctx, dilated, false, cs, dist, rr, 1); err != nil {
		return nil, err
	}
	// A cell is in the closed set when it held lung or the closing adds it.
	// The cells it adds hold no lung; a cell that held some lung is added
	// too, its other voxels with it, when every cell beside it is in the
	// closed set: so the closing's 2 mm steps do not leave out the voxels
	// of a nodule that share a cell with lung (an 8 mm nodule against the
	// wall lost a tenth of its sphere so), while a cell on the lung's own
	// border, beside the wall, adds nothing.
	closed := func(c int) bool { return coarse[c] || dist[c] > rr }
	interior := func(c int) bool {
		cz, cy, cx := c/cplane, c%cplane/cs[2], c%cs[2]
		if cz == 0 || cy == 0 || cx == 0 || cz == cs[0]-1 || cy == cs[1]-1 || cx == cs[2]-1 {
			return false
		}
		for _, n := range [6]int{c - 1, c + 1, c - cs[2], c + cs[2], c - cplane, c + cplane} {
			if !closed(n) {
				return false
			}
		}
		return true
	}
	var add []int32
	for c, d := range dist {
		if d <= rr && !coarse[c] {
			continue // not in the closed set
		}
		if coarse[c] && !interior(c) {
			continue // lung at the border of the closed set: nothing to add
		}
		cz, cy, cx := c/cplane, c%cplane/cs[2], c%cs[2]
		for z := lo[0] + cz*cell; z < lo[0]+(cz+1)*cell; z++ {
			for y := lo[1] + cy*cell; y < lo[1]+(cy+1)*cell; y++ {
				for x := lo[2] + cx*cell; x < lo[2]+(cx+1)*cell; x++ {
					if z >= 0 && y >= 0 && x >= 0 && z < nz && y < ny && x < nx {
						add = append(add, int32(z*plane+y*nx+x))
					}
				}
			}
		}
	}
	return add, nil
}

// fillHoles gives label l to the unlabelled pixels of a slice that label l
// encloses: those the border of l's bounding box (grown by one pixel)
// cannot reach without crossing l. win (y0, y1, x0, x1) bounds where l
// can be. It returns how many pixels of the slice hold l afterwards.
func fillHoles(out, seg []uint8, nx int, win [4]int, l uint8, q *[]int32) int {
	y0, y1, x0, x1 := win[1]+1, -1, win[3]+1, -1
	for y := win[0]; y <= win[1]; y++ {
		row := out[y*nx+win[2] : y*nx+win[3]+1]
		if i := bytes.IndexByte(row, l); i >= 0 {
			y0, y1 = min(y0, y), max(y1, y)
			x0, x1 = min(x0, win[2]+i), max(x1, win[2]+bytes.LastIndexByte(row, l))
		}
	}
	if y1 < 0 {
		return 0
	}
	h, w := y1-y0+3, x1-x0+3
	s := make([]uint8, h*w)
	for i := range s[:w] {
		s[i], s[len(s)-w+i] = segAir, segAir // the frame can be flooded, as can
	}
	for y := range h - 2 { // everything not l
		src, dst := out[(y0+y)*nx+x0:(y0+y)*nx+x1+1], s[(y+1)*w:(y+2)*w]
		dst[0], dst[w-1] = segAir, segAir
		for x, v := range src {
			a := uint8(segAir)
			if v == l {
				a = segTissue
			}
			dst[x+1] = a
		}
	}
	floodBorder(s, h, w, q)
	n := 0
	for y := range h - 2 {
		row, srow := out[(y0+y)*nx+x0:(y0+y)*nx+x1+1], s[(y+1)*w+1:(y+2)*w-1]
		segRow := seg[(y0+y)*nx+x0 : (y0+y)*nx+x1+1]
		for x, v := range srow {
			if v == segAir && row[x] == 0 && segRow[x] != segOutside {
				row[x] = l
			}
		}
		n += bytes.Count(row, []byte{l})
	}
	return n
}
