package ingest

import (
	"context"
	"fmt"
	"sort"

	"voxmine/internal/workpool"
	"voxmine/store"
)

// Segmentation parameters, in HU and millimetres on the 1 mm grid.
const (
	// airHU separates air and lung parenchyma from tissue.
	airHU = -320
	// lumenHU separates the airway lumen (≈ −1000) from parenchyma (≈ −850).
	lumenHU = -950
	// closeRadius is the radius of the ball that closes the lung masks: it
	// must exceed the radius of the largest juxtapleural nodule (LUNA16's
	// largest is 32 mm across) for such nodules to end up inside the lung.
	closeRadius = 17
	// closeCell is the cell size in mm of the grid the closing runs on.
	closeCell = 2
	// maxAirwayArea (mm²) is the largest cross-section a slice's airway may
	// have before the slice-by-slice growth is taken to leak into a lung.
	maxAirwayArea = 900
)

// Working values of the segmentation buffer.
const (
	segTissue  = 0
	segAir     = 1 // inside-body air not yet assigned
	segOutside = 2 // air connected to the outside of the body, or padding
	segSeen    = 7
	segAirway  = store.LabelAirway
)

// SegmentLungs computes a seg-lungs style mask of a CT on the 1 mm grid:
// 3 and 4 for the lungs, 5 for the trachea and main bronchi, 0 elsewhere.
//
//  1. Threshold at −320 HU: air and lung.
//  2. Per axial slice, remove the air connected to the slice's border: the
//     air around the body and the padding outside the field of view.
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
func SegmentLungs(ctx context.Context, hu []int16, shape [3]int, spacing [3]float64, workers int) ([]uint8, error) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	seg := make([]uint8, len(hu))
	err := parallelSlices(ctx, nz, workers, func(z int, q *[]int32) {
		s, h := seg[z*plane:(z+1)*plane], hu[z*plane:(z+1)*plane]
		for i, v := range h {
			if v < airHU {
				s[i] = segAir
			}
		}
		floodBorder(s, ny, nx, q)
	})
	if err != nil {
		return nil, err
	}
	growAirway(seg, hu, shape)

	// 3-D components of the inside air, largest first.
	comps, err := components3D(ctx, seg, shape, workers)
	if err != nil {
		return nil, err
	}
	out := make([]uint8, len(hu))
	for i, v := range seg {
		if v == segAirway {
			out[i] = store.LabelAirway
		}
	}
	if len(comps) == 0 {
		return out, nil
	}
	lungs := []component{comps[0]}
	if len(comps) > 1 && len(comps[1].voxels)*5 >= len(comps[0].voxels) {
		lungs = append(lungs, comps[1])
	} else {
		lungs = splitAlongX(comps[0], nx)
	}
	// Label 3 goes to the lung at the smaller x index.
	sort.Slice(lungs, func(i, j int) bool { return lungs[i].lo[2]+lungs[i].hi[2] < lungs[j].lo[2]+lungs[j].hi[2] })
	labels := make([]uint8, len(lungs))
	for k, c := range lungs {
		labels[k] = uint8(store.LabelLungA + k)
		for _, i := range c.voxels {
			out[i] = labels[k]
		}
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
		for _, i := range add {
			if out[i] == 0 && seg[i] != segOutside {
				out[i] = labels[k]
			}
		}
	}
	err = parallelSlices(ctx, nz, workers, func(z int, q *[]int32) {
		for k, l := range labels {
			// Label l lies within its lung's box grown by what the closing adds.
			g := closeRadius + closeCell
			if z < lungs[k].lo[0]-g || z > lungs[k].hi[0]+g {
				continue
			}
			win := [4]int{max(0, lungs[k].lo[1]-g), min(ny-1, lungs[k].hi[1]+g), max(0, lungs[k].lo[2]-g), min(nx-1, lungs[k].hi[2]+g)}
			fillHoles(out[z*plane:(z+1)*plane], seg[z*plane:(z+1)*plane], nx, win, l, q)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// growAirway finds the trachea in the top slice with inside air and
// follows the airway down, slice by slice, marking it segAirway. Below the
// first slice only the lumen blobs that overlap the airway above matter,
// so they are found by flooding from those pixels: the work is
// proportional to the airway, not to the slices.
func growAirway(seg []uint8, hu []int16, shape [3]int) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	plane := ny * nx
	lumen := func(i int) bool { return seg[i] == segAir && hu[i] < lumenHU }
	mark := make([]uint32, plane) // mark[p] == stamp: seen in this slice
	stamp := uint32(0)
	var prev []int32 // airway pixels of the slice above
	var queue []int32
	// blob floods the lumen blob of slice base holding p.
	blob := func(base, p int) []int32 {
		var px []int32
		queue = append(queue[:0], int32(p))
		mark[p] = stamp
		for len(queue) > 0 {
			q := int(queue[len(queue)-1])
			queue = queue[:len(queue)-1]
			px = append(px, int32(q))
			x, y := q%nx, q/nx
			for _, n := range [4]int{q - 1, q + 1, q - nx, q + nx} {
				if (n == q-1 && x == 0) || (n == q+1 && x == nx-1) || (n == q-nx && y == 0) || (n == q+nx && y == ny-1) {
					continue
				}
				if mark[n] != stamp && lumen(base+n) {
					mark[n] = stamp
					queue = append(queue, int32(n))
				}
			}
		}
		return px
	}
	for z := nz - 1; z >= 0; z-- {
		base := z * plane
		stamp++
		var next []int32
		if prev == nil {
			// The start: the trachea is the one mid-sized lumen blob of the
			// first slice that has any, nearest the middle of the slice.
			var best []int32
			bestD, any := 0.0, false
			for p := range plane {
				if mark[p] == stamp || !lumen(base+p) {
					continue
				}
				any = true
				px := blob(base, p)
				if len(px) < 20 || len(px) > maxAirwayArea {
					continue
				}
				cx, cy := 0.0, 0.0
				for _, q := range px {
					cx += float64(int(q) % nx)
					cy += float64(int(q) / nx)
				}
				dx, dy := cx/float64(len(px))-float64(nx)/2, cy/float64(len(px))-float64(ny)/2
				if d := dx*dx + dy*dy; best == nil || d < bestD {
					best, bestD = px, d
				}
			}
			if best == nil {
				if any {
					return // air at the top, but nothing like a trachea
				}
				continue
			}
			next = best
		} else {
			area := 0
			for _, p := range prev {
				if mark[p] == stamp || !lumen(base+int(p)) {
					continue
				}
				px := blob(base, int(p))
				if len(px) > maxAirwayArea {
					continue // one blob this large is a lung, not a bronchus
				}
				area += len(px)
				next = append(next, px...)
			}
			if area > maxAirwayArea {
				return // leaking into a lung: stop here
			}
			if len(next) == 0 {
				return
			}
		}
		for _, p := range next {
			seg[base+int(p)] = segAirway
		}
		prev = next
	}
}

// Dice returns the Dice coefficient of the lung voxels (labels 3 and 4,
// either side) of two masks.
func Dice(a, b []uint8) float64 {
	var inter, na, nb int
	for i := range a {
		la, lb := store.IsLung(a[i]), store.IsLung(b[i])
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

// PlausibilityFlags reports a lung mask that cannot be right: a total lung
// volume under 0.5 L or over 10 L, or a lung missing (1 mm³ voxels).
func PlausibilityFlags(labels []uint8) []string {
	var a, b int64
	for _, l := range labels {
		switch l {
		case store.LabelLungA:
			a++
		case store.LabelLungB:
			b++
		}
	}
	return plausibility(a, b)
}

// plausibility flags the lung voxel counts a and b of the two lungs.
func plausibility(a, b int64) []string {
	var flags []string
	litres := float64(a+b) / 1e6
	switch {
	case litres < 0.5:
		flags = append(flags, fmt.Sprintf("lung volume %.2f L is below 0.5 L", litres))
	case litres > 10:
		flags = append(flags, fmt.Sprintf("lung volume %.2f L is above 10 L", litres))
	}
	if a == 0 || b == 0 || min(a, b)*10 < max(a, b) {
		flags = append(flags, fmt.Sprintf("one lung missing or tiny (%d and %d voxels)", a, b))
	}
	return flags
}
