package mine

// Nodule masks beside the cube: for segmentation and detection training.

import (
	"math"

	"voxmine/query"
	"voxmine/store"
)

// Kinds of nodule mask, as the index's nodule_mask column says.
const (
	MaskLIDC   = "lidc"   // every annotation's LIDC 50 % consensus outline
	MaskSphere = "sphere" // spheres of the annotated diameters
	MaskMixed  = "mixed"  // outlines where the series has reads, spheres elsewhere
	MaskNone   = "none"   // the series has no annotation: the mask is empty
)

// noduleMask is a scan's annotated nodules as a uint8 channel of the 1 mm
// grid: 1 inside a nodule, 0 elsewhere.
type noduleMask struct {
	kind    string
	spheres []maskSphere
	outline []maskOutline
	grid    store.Geometry // the 1 mm grid
	src     store.Geometry // the source grid the LIDC outlines are on
}

type maskSphere struct {
	c [3]float64 // voxel of the 1 mm grid, z, y, x
	r float64    // mm (= voxels)
}

type maskOutline struct {
	in     map[[3]int]bool // source voxels (slice, row, column)
	lo, hi [3]int          // their box on the 1 mm grid (z, y, x), inclusive
}

// newNoduleMask gathers a series' annotations: each one's LIDC consensus
// outline where the read behind it has one, else a sphere of its diameter
// (10 mm when unknown, as the distance rules count it).
func newNoduleMask(info store.ScanInfo, f *store.SeriesFindings) *noduleMask {
	m := &noduleMask{grid: info.Grid, src: info.Source.Geometry, kind: MaskNone}
	if f == nil {
		return m
	}
	lidc, sphere := 0, 0
	for i, a := range f.Annotations {
		if r := f.Read(i); r != nil && len(r.Consensus) > 0 {
			o := maskOutline{in: map[[3]int]bool{}, lo: [3]int{math.MaxInt, math.MaxInt, math.MaxInt}, hi: [3]int{math.MinInt, math.MinInt, math.MinInt}}
			for _, run := range r.Consensus {
				for x := run[2]; x <= run[3]; x++ {
					v := [3]int{run[0], run[1], x}
					o.in[v] = true
					g := m.toGrid(v)
					for a := range 3 {
						o.lo[a] = min(o.lo[a], int(math.Floor(g[a]))-1)
						o.hi[a] = max(o.hi[a], int(math.Ceil(g[a]))+1)
					}
				}
			}
			m.outline = append(m.outline, o)
			lidc++
			continue
		}
		d := a.Diameter
		if d <= 0 {
			d = store.UnknownDiameter
		}
		c := query.WorldToIndex(info.Grid, [3]float64{a.X, a.Y, a.Z}) // z, y, x
		m.spheres = append(m.spheres, maskSphere{c: c, r: d / 2})
		sphere++
	}
	switch {
	case lidc > 0 && sphere > 0:
		m.kind = MaskMixed
	case lidc > 0:
		m.kind = MaskLIDC
	case sphere > 0:
		m.kind = MaskSphere
	}
	return m
}

// toGrid is where a source voxel (slice, row, column) lies on the 1 mm
// grid (z, y, x): both grids share origin and direction.
func (m *noduleMask) toGrid(v [3]int) [3]float64 {
	sp := m.src.Spacing // x, y, z
	return [3]float64{float64(v[0]) * sp[2], float64(v[1]) * sp[1], float64(v[2]) * sp[0]}
}

// toSource is the source voxel nearest a 1 mm grid voxel (z, y, x).
func (m *noduleMask) toSource(z, y, x int) [3]int {
	sp := m.src.Spacing
	return [3]int{int(math.Floor(float64(z)/sp[2] + 0.5)), int(math.Floor(float64(y)/sp[1] + 0.5)), int(math.Floor(float64(x)/sp[0] + 0.5))}
}

// read is a boxReader: the mask in box b.
func (m *noduleMask) read(b store.Box, dst []uint8) error {
	clear(dst[:b.Len()])
	for _, s := range m.spheres {
		r2 := s.r * s.r
		for z := max(b.Z, int(math.Floor(s.c[0]-s.r))); z <= min(b.Z+b.D-1, int(math.Ceil(s.c[0]+s.r))); z++ {
			dz := float64(z) - s.c[0]
			for y := max(b.Y, int(math.Floor(s.c[1]-s.r))); y <= min(b.Y+b.H-1, int(math.Ceil(s.c[1]+s.r))); y++ {
				dy := float64(y) - s.c[1]
				for x := max(b.X, int(math.Floor(s.c[2]-s.r))); x <= min(b.X+b.W-1, int(math.Ceil(s.c[2]+s.r))); x++ {
					dx := float64(x) - s.c[2]
					if dz*dz+dy*dy+dx*dx <= r2 {
						dst[((z-b.Z)*b.H+(y-b.Y))*b.W+(x-b.X)] = 1
					}
				}
			}
		}
	}
	for _, o := range m.outline {
		for z := max(b.Z, o.lo[0]); z <= min(b.Z+b.D-1, o.hi[0]); z++ {
			for y := max(b.Y, o.lo[1]); y <= min(b.Y+b.H-1, o.hi[1]); y++ {
				for x := max(b.X, o.lo[2]); x <= min(b.X+b.W-1, o.hi[2]); x++ {
					if o.in[m.toSource(z, y, x)] {
						dst[((z-b.Z)*b.H+(y-b.Y))*b.W+(x-b.X)] = 1
					}
				}
			}
		}
	}
	return nil
}
