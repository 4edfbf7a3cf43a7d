package lidc

import (
	"math"
	"slices"
	"sort"

	"voxmine/store/grid"
)

// Cluster is one physical nodule (or non-nodule) as several readers marked it.
type Cluster struct {
	Marks []Marked
	// Readers counts the distinct readers who marked it as a nodule.
	Readers int
	// Consensus: marked as a nodule by at least K readers, one of them as
	// a nodule of 3 mm or more (contoured).
	Consensus bool
	// Centre and Diameter are the means of the contoured marks' centroids
	// and equivalent diameters (of all marks' centres, and −1, when none
	// is contoured).
	Centre   [3]float64
	Diameter float64
	// Chars are the readers' median characteristics, when any gave them.
	Chars *Characteristics
	// Lo and Hi bound the marks' voxels (source grid: slice, row, column).
	Lo, Hi Voxel
}

// clusterTol is where clustering starts: marks whose contours come within
// this many millimetres are one nodule; it shrinks by tolFactor while a
// cluster holds two marks of one reader (pylidc's cluster_annotations does
// the same, with the same factor).
const (
	clusterTol = 3.0
	tolFactor  = 0.9
	minTol     = 0.1
)

// Clusters groups marks into physical nodules: single-linkage on the
// smallest distance between two marks' contour voxels, at a tolerance that
// starts at 3 mm and shrinks while any cluster holds two marks of the same
// reader. k is the consensus level (LUNA16's is 3).
func Clusters(marks []Marked, g grid.Geometry, k int) []Cluster {
	tol := clusterTol
	var groups [][]int
	for {
		groups = link(marks, g, tol)
		if tol*tolFactor < minTol || !sameReaderTwice(marks, groups) {
			break
		}
		tol *= tolFactor
	}
	out := make([]Cluster, 0, len(groups))
	for _, grp := range groups {
		c := Cluster{}
		readers := map[string]bool{}
		var chars []Characteristics
		contoured := 0
		for _, i := range grp {
			m := marks[i]
			c.Marks = append(c.Marks, m)
			if m.Nodule {
				readers[m.Reader] = true
			}
			if m.Nodule && !m.Small {
				contoured++
				for a := range 3 {
					c.Centre[a] += m.Centre[a]
				}
				c.Diameter += m.Diam
			}
			if m.Chars != nil {
				chars = append(chars, *m.Chars)
			}
		}
		c.Readers = len(readers)
		c.Consensus = c.Readers >= k && contoured > 0
		if contoured > 0 {
			for a := range 3 {
				c.Centre[a] /= float64(contoured)
			}
			c.Diameter /= float64(contoured)
		} else {
			for _, m := range c.Marks {
				for a := range 3 {
					c.Centre[a] += m.Centre[a] / float64(len(c.Marks))
				}
			}
			c.Diameter = -1
		}
		if len(chars) > 0 {
			c.Chars = medianChars(chars)
		}
		c.Lo, c.Hi = bounds(c.Marks)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Lo.K != out[j].Lo.K {
			return out[i].Lo.K < out[j].Lo.K
		}
		return out[i].Lo.Y*1e6+out[i].Lo.X < out[j].Lo.Y*1e6+out[j].Lo.X
	})
	return out
}

// link returns the connected groups of marks within tol of each other.
func link(marks []Marked, g grid.Geometry, tol float64) [][]int {
	parent := make([]int, len(marks))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range marks {
		for j := i + 1; j < len(marks); j++ {
			if near(marks[i], marks[j], g, tol) {
				parent[find(i)] = find(j)
			}
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for i := range marks {
		r := find(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	out := make([][]int, len(roots))
	for n, r := range roots {
		out[n] = byRoot[r]
	}
	return out
}

// near reports whether two marks' contours come within tol mm.
func near(a, b Marked, g grid.Geometry, tol float64) bool {
	// Centres farther apart than both marks' extents and tol cannot meet.
	reach := (a.MaxDiam+b.MaxDiam)/2 + tol + 2*g.Spacing[2] + 2
	if dist(a.Centre, b.Centre) > reach {
		return false
	}
	for _, u := range a.edge {
		wu := world(g, u)
		for _, v := range b.edge {
			if dist(wu, world(g, v)) <= tol {
				return true
			}
		}
	}
	return false
}

func dist(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

func sameReaderTwice(marks []Marked, groups [][]int) bool {
	for _, grp := range groups {
		seen := map[string]bool{}
		for _, i := range grp {
			if seen[marks[i].Reader] {
				return true
			}
			seen[marks[i].Reader] = true
		}
	}
	return false
}

func medianChars(cs []Characteristics) *Characteristics {
	var out [9]int
	for f := range 9 {
		var vals []int
		for _, c := range cs {
			if v := c.Values()[f]; v > 0 {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		sort.Ints(vals)
		// The median; with an even count, the lower middle value, so that
		// it stays one of the ratings given.
		out[f] = vals[(len(vals)-1)/2]
	}
	return &Characteristics{out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8]}
}

func bounds(ms []Marked) (lo, hi Voxel) {
	first := true
	for _, m := range ms {
		for _, v := range m.Voxels {
			if first {
				lo, hi, first = v, v, false
				continue
			}
			lo = Voxel{min(lo.K, v.K), min(lo.Y, v.Y), min(lo.X, v.X)}
			hi = Voxel{max(hi.K, v.K), max(hi.Y, v.Y), max(hi.X, v.X)}
		}
	}
	return lo, hi
}

// ConsensusRuns returns the voxels of the cluster's consensus outline as
// runs along rows: each [4]int is (slice, row, first column, last column)
// on the source grid, in order. A voxel belongs when at least half of the
// cluster's contoured marks include it, the 50 % consensus LIDC studies
// use (pylidc's consensus at clevel 0.5). Nil when no mark is contoured.
func (c Cluster) ConsensusRuns() [][4]int {
	count := map[Voxel]int{}
	n := 0
	for _, m := range c.Marks {
		if !m.Nodule || m.Small {
			continue
		}
		n++
		for _, v := range m.Voxels {
			count[v]++
		}
	}
	if n == 0 {
		return nil
	}
	var in []Voxel
	for v, k := range count {
		if 2*k >= n {
			in = append(in, v)
		}
	}
	slices.SortFunc(in, func(a, b Voxel) int {
		if a.K != b.K {
			return a.K - b.K
		}
		if a.Y != b.Y {
			return a.Y - b.Y
		}
		return a.X - b.X
	})
	var runs [][4]int
	for _, v := range in {
		if l := len(runs) - 1; l >= 0 && runs[l][0] == v.K && runs[l][1] == v.Y && runs[l][3] == v.X-1 {
			runs[l][3] = v.X
			continue
		}
		runs = append(runs, [4]int{v.K, v.Y, v.X, v.X})
	}
	return runs
}
