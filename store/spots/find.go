package spots

import (
	"bytes"
	"context"
	"math"
	"sort"

	"voxmine/internal/workpool"
	"voxmine/store"
)

// Nodule-likeness. The response of a spot at scale s is how much
// brighter the cube of side 2s+1 around it is than the shell out to side
// 4s+1, in HU, on a 2 mm grid (the mean of each 2×2×2 block), for s = 1,
// 2, 3 (cubes of 6, 10 and 14 mm: blobs of about 3 to 12 mm); a spot's
// response is the largest of the three. Box means come from a summed-volume
// table, so each costs eight lookups whatever its size. Vessels seen
// end-on and branch points respond as nodules do: they are what a detector
// confuses with nodules, the hard negatives.
const (
	blobCell      = 2   // mm (the code halves indices with a shift)
	blobThreshold = 150 // HU: weaker spots are plain parenchyma
	maxSpots      = 2000
	// minSpotMean (HU) is the least a spot's brightest 5³ neighbourhood
	// may average: a spot whose every neighbourhood is darker is the
	// texture of the parenchyma, not a vessel or a nodule-like bump (on
	// LIDC-IDRI-0001 a fifth of the spots were such, before this bound).
	minSpotMean = -600
	blobSpacing = 3 // cells (6 mm): a kept spot suppresses weaker ones this close
)

// Find returns the strongest local maxima of the blob response inside
// the lungs (labels 3 and 4) of a volume on the 1 mm grid, strongest
// first, at most maxSpots of them, at least 6 mm apart.
//
// The responses are computed by up to workers goroutines.
func Find(ctx context.Context, hu []int16, labels []uint8, shape [3]int, workers int) ([]store.Spot, error) {
	lo, hi, ok := lungBox(labels, shape)
	if !ok {
		return nil, nil
	}
	g := newCoarse(hu, labels, shape, lo, hi)
	resp, err := g.responses(ctx, workers)
	if err != nil {
		return nil, err
	}
	return g.pick(hu, labels, g.peaks(resp)), nil
}

// lungBox is the box of the lung labels on the 1 mm grid (inclusive);
// ok is false when there is no lung.
func lungBox(labels []uint8, shape [3]int) (lo, hi [3]int, ok bool) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	lo, hi = [3]int{nz, ny, nx}, [3]int{-1, -1, -1}
	for z := range nz {
		for y := range ny {
			// bytes.IndexByte scans a row many bytes at a time.
			row := labels[(z*ny+y)*nx : (z*ny+y+1)*nx]
			first, last := -1, -1
			for _, l := range [2]byte{store.LabelLungA, store.LabelLungB} {
				if i := bytes.IndexByte(row, l); i >= 0 {
					if first < 0 || i < first {
						first = i
					}
					last = max(last, bytes.LastIndexByte(row, l))
				}
			}
			if first >= 0 {
				lo = [3]int{min(lo[0], z), min(lo[1], y), min(lo[2], first)}
				hi = [3]int{max(hi[0], z), max(hi[1], y), max(hi[2], last)}
			}
		}
	}
	return lo, hi, hi[0] >= 0
}

// coarse is the lungs' box on the 2 mm grid: each cell's mean HU and
// whether it is mostly lung, and the summed-volume tables of both, so that
// any cube's sum costs eight lookups.
type coarse struct {
	shape   [3]int // the 1 mm grid
	lo, hi  [3]int // the box on the 1 mm grid, with a margin for the shells
	cs      [3]int // cells along each axis
	lung    []bool
	sat     []float64 // summed-volume table of the means, one larger on each axis
	lungSat []float64 // and of the lung flags
	sy, sx  int       // the tables' strides
}

func newCoarse(hu []int16, labels []uint8, shape [3]int, lo, hi [3]int) *coarse {
	ny, nx := shape[1], shape[2]
	const margin = 7 * blobCell
	var cs [3]int
	for a := range 3 {
		lo[a] = max(0, lo[a]-margin) / blobCell * blobCell
		hi[a] = min(shape[a]-1, hi[a]+margin)
		cs[a] = (hi[a]-lo[a])/blobCell + 1
	}
	// Coarse means and lung flags, then the summed-volume table (one
	// larger on each axis, zeros on the low faces).
	n := cs[0] * cs[1] * cs[2]
	sums := make([]int32, n)
	count := make([]int32, n)
	lungN := make([]int32, n)
	for z := lo[0]; z <= hi[0]; z++ {
		cz := (z - lo[0]) / blobCell
		for y := lo[1]; y <= hi[1]; y++ {
			row := (z*ny + y) * nx
			cbase := (cz*cs[1] + (y-lo[1])/blobCell) * cs[2]
			hrow, lrow := hu[row+lo[2]:row+hi[2]+1], labels[row+lo[2]:row+hi[2]+1]
			cells := sums[cbase : cbase+cs[2]]
			counts, lungs := count[cbase:cbase+cs[2]], lungN[cbase:cbase+cs[2]]
			for dx, v := range hrow {
				c := dx >> 1 // blobCell is 2
				cells[c] += int32(v)
				counts[c]++
				if l := lrow[dx]; l == store.LabelLungA || l == store.LabelLungB {
					lungs[c]++
				}
			}
		}
	}
	mean := make([]float64, n)
	lung := make([]bool, n)
	for c := range mean {
		if count[c] > 0 {
			mean[c] = float64(sums[c]) / float64(count[c])
		}
		lung[c] = lungN[c]*2 > count[c]
	}
	g := &coarse{shape: shape, lo: lo, hi: hi, cs: cs, lung: lung, sy: cs[1] + 1, sx: cs[2] + 1}
	sz, sy, sx := cs[0]+1, g.sy, g.sx
	// The summed-volume tables of the means and of the lung flags, built
	// together, plane by plane: a cell is its plane's 2-D running sum plus
	// the cell below it in the previous plane (three additions, not seven).
	g.sat = make([]float64, sz*sy*sx)
	g.lungSat = make([]float64, sz*sy*sx)
	colM, colL := make([]float64, sx), make([]float64, sx) // running column sums of the plane
	for z := 1; z < sz; z++ {
		clear(colM)
		clear(colL)
		for y := 1; y < sy; y++ {
			src := ((z-1)*cs[1] + (y - 1)) * cs[2]
			row, prev := g.at(z, y, 0), g.at(z-1, y, 0)
			var rm, rl float64 // running sums along the row
			for x := 1; x < sx; x++ {
				c := src + x - 1
				rm += mean[c]
				if lung[c] {
					rl++
				}
				colM[x] += rm
				colL[x] += rl
				g.sat[row+x] = colM[x] + g.sat[prev+x]
				g.lungSat[row+x] = colL[x] + g.lungSat[prev+x]
			}
		}
	}
	return g
}

// at is the index of table cell (z, y, x).
func (g *coarse) at(z, y, x int) int { return (z*g.sy+y)*g.sx + x }

// sum returns the sum of a table's cells in the cube of half-side h
// around coarse cell (z, y, x), clipped to the grid, and their number.
func (g *coarse) sum(t []float64, z, y, x, h int) (float64, int) {
	cs := g.cs
	z0, y0, x0 := max(z-h, 0), max(y-h, 0), max(x-h, 0)
	z1, y1, x1 := min(z+h+1, cs[0]), min(y+h+1, cs[1]), min(x+h+1, cs[2])
	s := t[g.at(z1, y1, x1)] - t[g.at(z0, y1, x1)] - t[g.at(z1, y0, x1)] - t[g.at(z1, y1, x0)] +
		t[g.at(z0, y0, x1)] + t[g.at(z0, y1, x0)] + t[g.at(z1, y0, x0)] - t[g.at(z0, y0, x0)]
	return s, (z1 - z0) * (y1 - y0) * (x1 - x0)
}

// responses is the blob response (Score) of every lung cell, 0 elsewhere.
func (g *coarse) responses(ctx context.Context, workers int) ([]float32, error) {
	cs := g.cs
	resp := make([]float32, cs[0]*cs[1]*cs[2])
	err := workpool.Slabs(ctx, cs[0], workers, func(z0, z1 int) error {
		var sums [7]float64
		var cnts [7]int
		for cz := z0; cz < z1; cz++ {
			for cy := range cs[1] {
				for cx := range cs[2] {
					c := (cz*cs[1]+cy)*cs[2] + cx
					if !g.lung[c] {
						continue
					}
					// A spot must lie in the lung, not on its edge against
					// the mediastinum or the chest wall, whose brightness
					// would read as a blob: half the 10 mm cube around it is
					// lung.
					if l, k := g.sum(g.lungSat, cz, cy, cx, 2); l*2 < float64(k) {
						continue
					}
					// The five cubes the three scales need (half-sides 1, 2, 3, 4, 6).
					for _, h := range [5]int{1, 2, 3, 4, 6} {
						sums[h], cnts[h] = g.sum(g.sat, cz, cy, cx, h)
					}
					resp[c] = float32(Score(func(h int) (float64, int) { return sums[h], cnts[h] }))
				}
			}
		}
		return nil
	})
	return resp, err
}

// peak is a cell whose response is a local maximum.
type peak struct {
	c int
	r float32
}

// peaks returns the local maxima over the 26 neighbours above the
// threshold, strongest first (ties: the first cell).
func (g *coarse) peaks(resp []float32) []peak {
	cs := g.cs
	var cands []peak
	for cz := 1; cz < cs[0]-1; cz++ {
		for cy := 1; cy < cs[1]-1; cy++ {
			for cx := 1; cx < cs[2]-1; cx++ {
				c := (cz*cs[1]+cy)*cs[2] + cx
				r := resp[c]
				if r < blobThreshold {
					continue
				}
				isPeak := true
				for dz := -1; dz <= 1 && isPeak; dz++ {
					for dy := -1; dy <= 1 && isPeak; dy++ {
						for dx := -1; dx <= 1; dx++ {
							if (dz != 0 || dy != 0 || dx != 0) && resp[c+(dz*cs[1]+dy)*cs[2]+dx] > r {
								isPeak = false
								break
							}
						}
					}
				}
				if isPeak {
					cands = append(cands, peak{c, r})
				}
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		return cands[i].r > cands[j].r || (cands[i].r == cands[j].r && cands[i].c < cands[j].c)
	})
	return cands
}

// pick keeps the strongest peaks at least blobSpacing cells apart, at most
// maxSpots, each moved to its brightest voxel, and drops those that are
// parenchyma's texture.
func (g *coarse) pick(hu []int16, labels []uint8, cands []peak) []store.Spot {
	cs, lo := g.cs, g.lo
	var out []store.Spot
	taken := map[[3]int]bool{}
	for _, cd := range cands {
		if len(out) == maxSpots {
			break
		}
		cz, cy, cx := cd.c/(cs[1]*cs[2]), cd.c/cs[2]%cs[1], cd.c%cs[2]
		key := [3]int{cz / blobSpacing, cy / blobSpacing, cx / blobSpacing}
		near := false
		for dz := -1; dz <= 1 && !near; dz++ {
			for dy := -1; dy <= 1 && !near; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if taken[[3]int{key[0] + dz, key[1] + dy, key[2] + dx}] {
						near = true
						break
					}
				}
			}
		}
		if near {
			continue
		}
		taken[key] = true
		// The spot's voxel: the brightest 5³ neighbourhood of the lung
		// around the 2 mm cell (its own voxels and two on each side). The
		// voxel nearest the cell's centre missed the vessel by a voxel or
		// two often enough that a fifth of the spots' centres sat in
		// parenchyma.
		z, y, x, mean := brightest(hu, labels, g.shape, [3]int{lo[0] + cz*blobCell, lo[1] + cy*blobCell, lo[2] + cx*blobCell})
		if mean < minSpotMean {
			continue // parenchyma's texture, not a structure
		}
		out = append(out, store.Spot{Z: z, Y: y, X: x, Response: cd.r})
	}
	return out
}

// Score is the blob response of one spot, the one definition both Find and
// a mined centre's hardness (query.SpotScore) use: the largest, over
// the scales s = 1, 2, 3, of the mean of the cube of half-side s cells less
// the mean of the shell between it and the cube of half-side 2s. cube(h)
// returns the sum of the cell means in the cube of half-side h and their
// number (fewer where the cube is clipped); a scale whose shell is empty
// does not count. The result is never below 0.
func Score(cube func(h int) (sum float64, n int)) float64 {
	best := 0.0
	for s := 1; s <= 3; s++ {
		in, nin := cube(s)
		out, nout := cube(2 * s)
		if nout <= nin {
			continue
		}
		best = max(best, in/float64(nin)-(out-in)/float64(nout-nin))
	}
	return best
}

// brightest returns the lung voxel within two voxels of the 2×2×2 cell at
// c whose 5³ neighbourhood (the size of the smallest blob scale) sums
// highest (ties: the first in z, y, x order), or the voxel nearest the
// cell's centre when none of them is lung.
func brightest(hu []int16, labels []uint8, shape [3]int, c [3]int) (z0, y0, x0 int, mean float64) {
	nz, ny, nx := shape[0], shape[1], shape[2]
	at := func(z, y, x int) int32 {
		z, y, x = min(max(z, 0), nz-1), min(max(y, 0), ny-1), min(max(x, 0), nx-1)
		return int32(hu[(z*ny+y)*nx+x])
	}
	bz, by, bx := min(c[0]+blobCell/2, nz-1), min(c[1]+blobCell/2, ny-1), min(c[2]+blobCell/2, nx-1)
	best := int32(math.MinInt32)
	for z := max(c[0]-2, 0); z <= min(c[0]+blobCell+1, nz-1); z++ {
		for y := max(c[1]-2, 0); y <= min(c[1]+blobCell+1, ny-1); y++ {
			for x := max(c[2]-2, 0); x <= min(c[2]+blobCell+1, nx-1); x++ {
				if l := labels[(z*ny+y)*nx+x]; l != store.LabelLungA && l != store.LabelLungB {
					continue
				}
				var s int32
				for dz := -2; dz <= 2; dz++ {
					for dy := -2; dy <= 2; dy++ {
						for dx := -2; dx <= 2; dx++ {
							s += at(z+dz, y+dy, x+dx)
						}
					}
				}
				if s > best {
					best, bz, by, bx = s, z, y, x
				}
			}
		}
	}
	if best == math.MinInt32 {
		return bz, by, bx, math.Inf(-1)
	}
	return bz, by, bx, float64(best) / 125
}
