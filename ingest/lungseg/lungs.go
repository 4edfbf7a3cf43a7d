package lungseg

import (
	"context"
	"fmt"
	"sort"

	"voxmine/internal/workpool"
	"voxmine/store/grid"
)

// gasLike reports whether a component of inside air is gas rather than
// lung: more than maxPureGas of its interior (voxels whose six neighbours
// are in it too, away from partial volume at its wall) below pureGasHU,
// and smaller than a lung can be when it is that dark. On the real scans of
// ../shared/realct, lung interiors hold 0–2 % such voxels and bowel and
// stomach gas 46–71 % (docs/DESIGN.md).
func gasLike(c component, seg []uint8, hu []int16, shape [3]int) bool {
	if c.size > maxGasVoxels {
		return false
	}
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	const inComp = 8 // a temporary mark, restored below
	c.fill(seg, nx, inComp)
	defer c.fill(seg, nx, segSeen)
	interior, pure := 0, 0
	for _, r := range c.runs {
		z, y := int(r.row)/ny, int(r.row)%ny
		if z == 0 || z == nz-1 || y == 0 || y == ny-1 {
			continue
		}
		base := int(r.row) * nx
		for x := max(int(r.x0), 1); x <= min(int(r.x1), nx-2); x++ {
			i := base + x
			if seg[i-1] != inComp || seg[i+1] != inComp || seg[i-nx] != inComp || seg[i+nx] != inComp || seg[i-plane] != inComp || seg[i+plane] != inComp {
				continue
			}
			interior++
			if hu[i] < pureGasHU {
				pure++
			}
		}
	}
	return interior > 0 && float64(pure) > maxPureGas*float64(interior)
}

// fill sets the component's voxels in buf to v.
func (c component) fill(buf []uint8, nx int, v uint8) {
	for _, r := range c.runs {
		base := int(r.row) * nx
		clear := buf[base+int(r.x0) : base+int(r.x1)+1]
		for i := range clear {
			clear[i] = v
		}
	}
}

// Segmentation parameters, in HU and millimetres on the 1 mm grid.
const (
	// airHU separates air and lung parenchyma from tissue.
	airHU = -320
	// lumenHU separates the airway lumen (≈ −1000) from parenchyma (≈ −850).
	lumenHU = -950
	// lumenMeanHU is the same test on a 3 × 3 mean, which noise moves a
	// third as far: looser, because air stored unsigned is clipped at
	// −1024, which lifts a noisy lumen's mean (≈ −963 HU at σ 120).
	lumenMeanHU = -920
	// closeRadius is the radius of the ball that closes the lung masks: it
	// must exceed the radius of the largest juxtapleural nodule (LUNA16's
	// largest is 32 mm across) for such nodules to end up inside the lung.
	closeRadius = 17
	// closeCell is the cell size in mm of the grid the closing runs on.
	closeCell = 2
	// maxAirwayArea (mm²) is the largest cross-section a slice's airway may
	// have before the slice-by-slice growth is taken to leak into a lung.
	maxAirwayArea = 900
	// minTracheaArea (mm²) is the smallest lumen taken for the trachea
	// (its lumen is 150–300 mm² in adults; partial volume shrinks it).
	minTracheaArea = 30
	// maxTracheaOffset (mm) is how far from the body's middle (left to
	// right) the trachea's lumen may lie.
	maxTracheaOffset = 40
	// pureGasHU, maxPureGas and maxGasVoxels tell gas from lung (gasLike).
	pureGasHU    = -950
	maxPureGas   = 0.4
	maxGasVoxels = 1_500_000 // 1.5 L: a darker component this large is lung (emphysema)
	// minLungVoxels (mm³) is the smallest air body taken for a lung.
	minLungVoxels = 5000
	// Plausible lungs (Lungs.Flags): litres when the scan shows all of
	// them, and the mean HU of the air bodies (lung bases in thick slices
	// run near −650 from partial volume; healthy parenchyma near −850).
	minWholeLungLitres = 1.0
	edgeSlices         = 5 // mm: lungs this close to the first or last slice are cut by it
	maxLungLitres      = 10
	minLungMeanHU      = -960
	maxLungMeanHU      = -550
	// maxTracheaSearch is how many slices with inside air, from the top,
	// may be searched for the trachea before the scan is taken to show
	// none (an abdominal scan).
	maxTracheaSearch = 80
)

// The states of the segmentation buffer, one byte a voxel, in one place:
// the buffer starts as tissue and air, the passes mark what they decide,
// and it ends holding the labels (grid.LabelLungA, LabelLungB,
// LabelAirway; 0 elsewhere), so the working values must not be label
// values (3, 4, 5).
const (
	segTissue  = 0                // not air (and, at the end, no label)
	segAir     = 1                // inside-body air not yet assigned
	segOutside = 2                // air connected to the outside of the body, or padding
	segAirway  = grid.LabelAirway // the airway's lumen, found before the lungs
	segSeen    = 7                // labelled into a 3-D component (labelRange)
	segVisit   = 8                // being visited by a slice's fill (fovcut)
	segAirKept = 9                // air decided inside a cut body, turned back into segAir at the end
)

// Segment computes a seg-lungs style mask of a CT on the 1 mm grid:
// 3 and 4 for the lungs, 5 for the trachea and main bronchi, 0 elsewhere.
//
//  1. Threshold at −320 HU: air and lung.
//  2. Per axial slice, remove the air connected to the slice's border: the
//     air around the body and the padding outside the field of view. Where
//     the field of view cuts the body, the air regions touching its edge
//     that lie mostly outside the body's convex hull (fovcut.go).
//  3. Grow the airway slice by slice from the top: lumen darker than
//     −950 HU whose cross-section overlaps the slice above and stays
//     small; it becomes label 5.
//  4. The two largest 3-D components of the remaining air are the lungs
//     (one component is split at its narrowest point along x).
//  5. Close each lung with a 17 mm ball (distance transforms on a 2 mm
//     grid), so vessels,
//     and nodules up to 34 mm touching the pleura, count as lung; fill
//     the holes left in each slice.
//
// The per-voxel state is a uint8 buffer; distance transforms work on one
// lung's bounding box at a time.
//
// Work is spread over up to workers goroutines; the segmentation stops
// with ctx's error when ctx is done.
func Segment(ctx context.Context, hu []int16, g grid.Geometry, workers int) (*Lungs, error) {
	shape := g.Shape
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	seg := make([]uint8, len(hu))
	err := parallelSlices(ctx, nz, workers, func(z int, q *[]int32) {
		s, h := seg[z*plane:(z+1)*plane], hu[z*plane:(z+1)*plane]
		air := 0
		for i, v := range h {
			a := uint8(uint32(int32(v)-airHU) >> 31) // segAir below airHU, segTissue above
			s[i] = a
			air += int(a)
		}
		lo, hi := make([]int, ny), make([]int, ny)
		if paddingSpans(h, ny, nx, lo, hi) {
			// Padding of a tissue value (0) is outside all the same.
			for y := range ny {
				row := s[y*nx : (y+1)*nx]
				for x := range row {
					if (x < lo[y] || x > hi[y]) && row[x] == segTissue {
						row[x] = segAir
						air++
					}
				}
			}
		}
		if !outsideOfCutBody(s, h, ny, nx, plane-air, lo, hi, q) {
			floodBorder(s, ny, nx, q)
		}
	})
	if err != nil {
		return nil, err
	}
	airway := growAirway(seg, hu, shape)

	// 3-D components of the inside air, largest first.
	comps, err := components3D(ctx, seg, shape, workers)
	if err != nil {
		return nil, err
	}
	out := make([]uint8, len(hu))
	for _, i := range airway {
		out[i] = grid.LabelAirway
	}
	// Gas that is not lung (stomach, bowel, colon) is pure air inside; lung
	// parenchyma, even emphysematous, holds vessels and septa.
	var cands []component
	for _, c := range comps {
		if c.size >= minLungVoxels && !gasLike(c, seg, hu, shape) {
			cands = append(cands, c)
		}
	}
	comps = cands
	if len(comps) == 0 {
		return &Lungs{Labels: out, Flags: []string{"lungs: none found (no air body in the scan is lung rather than gas); the mask is empty"}}, nil
	}
	lungs := []component{comps[0]}
	if len(comps) > 1 && comps[1].size*5 >= comps[0].size {
		lungs = append(lungs, comps[1])
	} else {
		lungs = splitAlongX(comps[0], nx)
	}
	// Label 3 goes to the patient's right lung, 4 to the left: the lung at
	// the smaller world x (LPS: x grows to the patient's left), whatever
	// the direction of the grid's x axis.
	sign := 1
	if g.Direction[0] < 0 {
		sign = -1
	}
	sort.Slice(lungs, func(i, j int) bool {
		return sign*(lungs[i].lo[2]+lungs[i].hi[2]) < sign*(lungs[j].lo[2]+lungs[j].hi[2])
	})
	st := lungStats(lungs, hu, shape)
	labels := make([]uint8, len(lungs))
	for k, c := range lungs {
		labels[k] = uint8(grid.LabelLungA + k)
		c.fill(out, nx, labels[k])
	}
	// Close the lungs side by side, then add what the closings add where
	// nothing else is.
	added := make([][]int32, len(lungs))
	err = workpool.Run(ctx, len(lungs), workers, func(k int) error {
		var err error
		added[k], err = closing(ctx, out, labels[k], lungs[k].lo, lungs[k].hi, shape, closeRadius, closeCell)
		return err
	})
	if err != nil {
		return nil, err
	}
	for k, add := range added {
		medial := medialLimits(lungs[k], lungs, shape)
		for _, i := range add {
			if out[i] == 0 && seg[i] != segOutside && medial.allows(int(i)) {
				out[i] = labels[k]
			}
		}
	}
	perSlice := make([][2]int64, nz) // voxels of labels 3 and 4, counted as the holes are filled
	err = parallelSlices(ctx, nz, workers, func(z int, q *[]int32) {
		for k, l := range labels {
			// Label l lies within its lung's box grown by what the closing adds.
			g := closeRadius + closeCell
			if z < lungs[k].lo[0]-g || z > lungs[k].hi[0]+g {
				continue
			}
			win := [4]int{max(0, lungs[k].lo[1]-g), min(ny-1, lungs[k].hi[1]+g), max(0, lungs[k].lo[2]-g), min(nx-1, lungs[k].hi[2]+g)}
			perSlice[z][k] = int64(fillHoles(out[z*plane:(z+1)*plane], seg[z*plane:(z+1)*plane], nx, win, l, q))
		}
	})
	if err != nil {
		return nil, err
	}
	var a, b int64
	for _, n := range perSlice {
		a, b = a+n[0], b+n[1]
	}
	return &Lungs{Labels: out, Flags: st.flags(a, b)}, nil
}

// medial bounds what a lung's closing may add towards the midline: in
// each row (slice z, line y) nothing beyond the most medial air of that
// lung in that row, or in the nearest row within hilumRows that has some.
// The closing then still takes in nodules on the costal pleura (lateral of
// the air in their row) and the vessels between lung air, but no longer
// bridges the hilum's concavity into the mediastinum.
type medial struct {
	limit     []int32 // per (z, y): the medial x limit, −1 where none
	towardsUp bool    // the midline lies at larger x (a lung left of the other)
	ny, nx    int
}

const hilumRows = 8 // mm

func medialLimits(c component, lungs []component, shape [3]int) medial {
	nz, ny, nx := shape[0], shape[1], shape[2]
	// The other lung, or the body's middle, decides which side is medial.
	mid := float64(nx) / 2
	for _, o := range lungs {
		if o.lo != c.lo || o.hi != c.hi {
			mid = float64(o.lo[2]+o.hi[2]) / 2
		}
	}
	m := medial{limit: make([]int32, nz*ny), ny: ny, nx: nx, towardsUp: float64(c.lo[2]+c.hi[2])/2 < mid}
	for i := range m.limit {
		m.limit[i] = -1
	}
	for _, r := range c.runs {
		x := r.x0
		if m.towardsUp {
			x = r.x1
		}
		if cur := m.limit[r.row]; cur < 0 || (m.towardsUp && x > cur) || (!m.towardsUp && x < cur) {
			m.limit[r.row] = x
		}
	}
	// Rows without air take the nearest row's limit within hilumRows.
	filled := append([]int32(nil), m.limit...)
	for z := range nz {
		for y := range ny {
			if filled[z*ny+y] >= 0 {
				continue
			}
			for d := 1; d <= hilumRows; d++ {
				if y-d >= 0 && m.limit[z*ny+y-d] >= 0 {
					filled[z*ny+y] = m.limit[z*ny+y-d]
					break
				}
				if y+d < ny && m.limit[z*ny+y+d] >= 0 {
					filled[z*ny+y] = m.limit[z*ny+y+d]
					break
				}
			}
		}
	}
	m.limit = filled
	return m
}

// allows reports whether voxel i lies no more medial than its row's limit.
func (m medial) allows(i int) bool {
	lim := m.limit[i/m.nx]
	if lim < 0 {
		return false
	}
	x := int32(i % m.nx)
	if m.towardsUp {
		return x <= lim
	}
	return x >= lim
}

// Lungs is a computed lung mask and what is implausible about it.
type Lungs struct {
	// Labels holds 3 (right lung), 4 (left lung), 5 (airway), 0.
	Labels []uint8
	// Flags say what makes the mask implausible, each starting "lungs:";
	// mine does not sample from a flagged computed mask under --lung auto.
	Flags []string
}

// airStats describes the air bodies taken for the lungs, before closing.
type airStats struct {
	meanHU  float64
	touches bool // the lungs reach the first or last slice
}

func lungStats(lungs []component, hu []int16, shape [3]int) airStats {
	var sum float64
	n := 0
	st := airStats{}
	nz, nx := shape[0], shape[2]
	for _, c := range lungs {
		for _, r := range c.runs {
			base := int(r.row) * nx
			s := 0
			for _, v := range hu[base+int(r.x0) : base+int(r.x1)+1] {
				s += int(v)
			}
			sum += float64(s)
		}
		n += c.size
		// Within a few slices of the ends: the 1 mm grid may overshoot the
		// scan by up to half a source slice, which reads as padding.
		if c.lo[0] <= edgeSlices || c.hi[0] >= nz-1-edgeSlices {
			st.touches = true
		}
	}
	st.meanHU = sum / float64(max(n, 1))
	return st
}

// flags checks the computed mask against what real lungs are (Judge).
func (st airStats) flags(a, b int64) []string {
	return Judge{A: a, B: b, Cut: st.touches, MeanHU: st.meanHU, HaveHU: true}.Flags()
}

// Judge is what the plausibility rule knows of a lung mask. It is the one
// rule for masks voxmine computes and masks read from files.
type Judge struct {
	A, B int64 // voxels (mm³) of each lung
	// Cut: the lungs reach the first or last slices, so the scan may hold
	// any fraction of them and no lower bound on their volume applies.
	Cut bool
	// MeanHU of the air bodies the lungs were grown from, when known
	// (HaveHU): computed masks only, as a mask file's lungs hold vessels.
	MeanHU float64
	HaveHU bool
}

// Flags checks the mask against what real lungs are: two sides, lung
// parenchyma's HU, and a volume that fits a chest when the scan shows the
// whole of it. Each flag starts "lungs:".
func (j Judge) Flags() []string {
	var flags []string
	litres := float64(j.A+j.B) / 1e6
	switch {
	case litres > maxLungLitres:
		flags = append(flags, fmt.Sprintf("lungs: volume %.2f L is above %g L", litres, float64(maxLungLitres)))
	case !j.Cut && litres < minWholeLungLitres:
		flags = append(flags, fmt.Sprintf("lungs: volume %.2f L is below %g L, though the scan covers them from top to bottom", litres, minWholeLungLitres))
	}
	if j.A == 0 || j.B == 0 || min(j.A, j.B)*10 < max(j.A, j.B) {
		flags = append(flags, fmt.Sprintf("lungs: one lung missing or tiny (%d and %d voxels)", j.A, j.B))
	}
	if j.HaveHU && (j.MeanHU < minLungMeanHU || j.MeanHU > maxLungMeanHU) {
		flags = append(flags, fmt.Sprintf("lungs: mean %.0f HU of the air bodies is not lung parenchyma's (%d to %d)", j.MeanHU, minLungMeanHU, maxLungMeanHU))
	}
	return flags
}

// Dice returns the Dice coefficient of the lung voxels (labels 3 and 4,
// either side) of two masks.
func Dice(a, b []uint8) float64 {
	var inter, na, nb int
	for i := range a {
		la, lb := grid.IsLung(a[i]), grid.IsLung(b[i])
		if la {
			na++
		}
		if lb {
			nb++
		}
		if la && lb {
			inter++
		}
	}
	if na+nb == 0 {
		return 1
	}
	return 2 * float64(inter) / float64(na+nb)
}

// countLungs counts the voxels of each lung label.
func countLungs(labels []uint8) (a, b int64) {
	for _, l := range labels {
		switch l {
		case grid.LabelLungA:
			a++
		case grid.LabelLungB:
			b++
		}
	}
	return a, b
}

// PlausibilityFlags judges a lung mask on the 1 mm grid of the given
// shape (z, y, x), a mask file's or any other, by the rule computed masks
// are held to (Judge): the volume bound applies when no lung reaches the
// first or last slices.
func PlausibilityFlags(labels []uint8, shape [3]int) []string {
	a, b := countLungs(labels)
	plane := shape[1] * shape[2]
	cut := false
	for _, z := range []int{0, shape[0] - 1} {
		for dz := 0; dz <= edgeSlices && !cut; dz++ {
			k := z + dz
			if z > 0 {
				k = z - dz
			}
			if k < 0 || k >= shape[0] || (k+1)*plane > len(labels) {
				continue
			}
			for _, l := range labels[k*plane : (k+1)*plane] {
				if grid.IsLung(l) {
					cut = true
					break
				}
			}
		}
	}
	return Judge{A: a, B: b, Cut: cut}.Flags()
}
