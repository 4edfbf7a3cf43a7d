package lidc

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"voxmine/store/grid"
)

// Grid is what the reads need of the series they annotate.
type Grid struct {
	// Geometry is the series' source grid (z: slices sorted along the normal).
	Geometry grid.Geometry
	// SOPs and Z are each slice's SOP instance uid and position along the
	// normal (LIDC's imageZposition is ImagePositionPatient's z).
	SOPs []string
	Z    []float64
}

// Voxel is a voxel of the source grid: slice, row, column.
type Voxel struct{ K, Y, X int }

// Marked is one reader's mark placed on the grid.
type Marked struct {
	Reader  string
	ID      string
	Nodule  bool // an unblindedReadNodule; false for a nonNodule
	Small   bool // a point: a nodule under 3 mm, or a non-nodule
	Chars   *Characteristics
	Voxels  []Voxel
	Centre  [3]float64 // world mm (LPS), the centroid of the voxels
	Volume  float64    // mm³
	Diam    float64    // mm: the equivalent sphere's diameter; −1 for points
	MaxDiam float64    // mm: the largest in-plane extent of a contour
	edge    []Voxel    // contour voxels, for distances between marks
}

// Place turns a read's marks into voxel masks on g. A contour whose slice
// cannot be found (neither its SOP uid nor its z) is left out and said in
// unplaced, naming the reader and the mark; a mark with no contour left
// is left out whole. The error is ctx's: placing is bounded by the grid,
// but a file may hold many marks.
func Place(ctx context.Context, r *Read, g *Grid) (marks []Marked, unplaced []string, err error) {
	sop := map[string]int{}
	for k, u := range g.SOPs {
		sop[u] = k
	}
	half := 0.5 * g.Geometry.Spacing[2]
	slice := func(u string, z float64) (int, bool) {
		if k, ok := sop[u]; ok && u != "" {
			return k, true
		}
		best, bestD := -1, math.Inf(1)
		for k, p := range g.Z {
			if d := math.Abs(p - z); d < bestD {
				best, bestD = k, d
			}
		}
		return best, best >= 0 && bestD <= half+1e-3
	}
	var out []Marked
	for _, s := range r.Sessions {
		for _, n := range s.Nodules {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			m := Marked{Reader: s.Reader, ID: n.ID, Nodule: true, Chars: n.Chars}
			small := len(n.ROIs) == 1 && len(n.ROIs[0].Edge) == 1
			holes := map[Voxel]bool{}
			seen := map[Voxel]bool{}
			placed := 0
			for _, roi := range n.ROIs {
				if err := ctx.Err(); err != nil {
					return nil, nil, err // a file may hold thousands of contours
				}
				k, ok := slice(roi.SOP, roi.Z)
				if !ok {
					unplaced = append(unplaced, fmt.Sprintf("reader %s, %.40s: no slice at z %.2f", s.Reader, n.ID, roi.Z))
					continue
				}
				placed++
				px := fill(roi.Edge, g.Geometry.Shape[2], g.Geometry.Shape[1])
				for _, p := range px {
					v := Voxel{k, p[1], p[0]}
					if !roi.Inclusion {
						holes[v] = true
					} else if !seen[v] {
						seen[v] = true
						m.Voxels = append(m.Voxels, v)
					}
				}
				if roi.Inclusion {
					for _, e := range roi.Edge {
						m.edge = append(m.edge, Voxel{k, e[1], e[0]})
					}
					m.MaxDiam = math.Max(m.MaxDiam, extent(roi.Edge, g.Geometry.Spacing, g.Geometry.Shape[2], g.Geometry.Shape[1]))
				}
			}
			if len(holes) > 0 {
				kept := m.Voxels[:0]
				for _, v := range m.Voxels {
					if !holes[v] {
						kept = append(kept, v)
					}
				}
				m.Voxels = kept
			}
			if placed == 0 {
				continue
			}
			m.Small = small
			out = append(out, m.finish(g))
		}
		for _, p := range s.NonNodules {
			k, ok := slice(p.SOP, p.Z)
			if !ok {
				unplaced = append(unplaced, fmt.Sprintf("reader %s, non-nodule %.40s: no slice at z %.2f", s.Reader, p.ID, p.Z))
				continue
			}
			v := Voxel{k, p.Y, p.X}
			m := Marked{Reader: s.Reader, ID: p.ID, Small: true, Voxels: []Voxel{v}, edge: []Voxel{v}}
			out = append(out, m.finish(g))
		}
	}
	return out, unplaced, nil
}

// world maps a voxel of the source grid to LPS millimetres.
func world(g grid.Geometry, v Voxel) [3]float64 {
	idx := [3]float64{float64(v.X), float64(v.Y), float64(v.K)}
	var w [3]float64
	for r := range 3 {
		w[r] = g.Origin[r]
		for c := range 3 {
			w[r] += g.Direction[r*3+c] * g.Spacing[c] * idx[c]
		}
	}
	return w
}

func (m Marked) finish(g *Grid) Marked {
	if len(m.edge) == 0 {
		m.edge = m.Voxels
	}
	for _, v := range m.Voxels {
		w := world(g.Geometry, v)
		for a := range 3 {
			m.Centre[a] += w[a]
		}
	}
	n := float64(max(len(m.Voxels), 1))
	for a := range 3 {
		m.Centre[a] /= n
	}
	sp := g.Geometry.Spacing
	m.Volume = float64(len(m.Voxels)) * sp[0] * sp[1] * sp[2]
	m.Diam = -1
	if !m.Small {
		m.Diam = math.Cbrt(6 * m.Volume / math.Pi)
	}
	return m
}

// extent is the largest distance between two contour points of a slice.
// The farthest pair lies on the convex hull, so only the hull's points are
// paired; the points are first clamped to the slice (a mark off the image
// is a broken file, not a nodule), which bounds the hull at a few hundred
// points however many the file lists: no O(n²) over what a file controls.
func extent(edge [][2]int, sp [3]float64, nx, ny int) float64 {
	pts := make([][2]int, len(edge))
	for i, e := range edge {
		pts[i] = [2]int{min(max(e[0], -1), nx), min(max(e[1], -1), ny)}
	}
	hull := convexHull(pts)
	best := 0.0
	for i := range hull {
		for j := i + 1; j < len(hull); j++ {
			dx, dy := float64(hull[i][0]-hull[j][0])*sp[0], float64(hull[i][1]-hull[j][1])*sp[1]
			best = math.Max(best, math.Hypot(dx, dy))
		}
	}
	return best
}

// convexHull returns the vertices of the convex hull of pts (Andrew's
// monotone chain), or the distinct points when there are fewer than three.
func convexHull(pts [][2]int) [][2]int {
	p := slices.Clone(pts)
	slices.SortFunc(p, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	p = slices.Compact(p)
	if len(p) < 3 {
		return p
	}
	cross := func(o, a, b [2]int) int {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	h := make([][2]int, 0, 2*len(p))
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p[i]) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p[i])
	}
	return h[:len(h)-1]
}

// fill returns the pixels whose centre lies inside the polygon a closed
// contour traces (even-odd), less the contour's own points: the LIDC
// readers drew their outlines just outside the nodule, and pylidc's masks
// leave the outline out by default (Annotation.boolean_mask,
// include_contour_points=False), as LUNA16's diameters do. Counting the
// outline in made consensus diameters 10–16 % larger than LUNA16's on
// held-out scans, the more so the smaller the nodule. A contour of one
// point (a nodule under 3 mm) is that point.
func fill(edge [][2]int, nx, ny int) [][2]int {
	if len(edge) == 0 {
		return nil
	}
	minX, maxX, minY, maxY := edge[0][0], edge[0][0], edge[0][1], edge[0][1]
	for _, e := range edge {
		minX, maxX = min(minX, e[0]), max(maxX, e[0])
		minY, maxY = min(minY, e[1]), max(maxY, e[1])
	}
	seen := map[[2]int]bool{}
	var out [][2]int
	add := func(p [2]int) {
		if p[0] >= 0 && p[1] >= 0 && p[0] < nx && p[1] < ny && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(edge) == 1 {
		add(edge[0])
		return out
	}
	for _, e := range edge {
		seen[e] = true // the outline is not the nodule
	}
	// Only the rows and columns of the slice: a contour drawn at ±10⁶
	// pixels must not cost 10¹² steps.
	minY, maxY = max(minY, 0), min(maxY, ny-1)
	for y := minY; y <= maxY; y++ {
		var xs []float64
		fy := float64(y)
		for i := range edge {
			a, b := edge[i], edge[(i+1)%len(edge)]
			ay, by := float64(a[1]), float64(b[1])
			if (ay <= fy && by > fy) || (by <= fy && ay > fy) {
				xs = append(xs, float64(a[0])+(fy-ay)*float64(b[0]-a[0])/(by-ay))
			}
		}
		sort.Float64s(xs)
		for i := 0; i+1 < len(xs); i += 2 {
			lo, hi := math.Max(math.Ceil(xs[i]), 0), math.Min(xs[i+1], float64(nx-1))
			for x := int(lo); float64(x) <= hi; x++ {
				add([2]int{x, y})
			}
		}
	}
	return out
}
