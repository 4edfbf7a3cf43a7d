package query

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"voxmine/store"
)

// LungSampler draws voxels uniformly from a scan's lung (labels 3 and 4)
// without a rejection loop: a chunk with probability proportional to its
// lung voxel count from the chunk index, then one of that chunk's lung
// voxels. Only the chosen chunk's labels are decoded.
type LungSampler struct {
	v      *store.Volume
	chunks []int   // chunks holding lung
	cum    []int64 // running lung counts over chunks
	buf    []uint8
}

// NewLungSampler prepares a sampler from the chunk index; it fails when
// the scan has no lung labels or no lung voxel.
func NewLungSampler(v *store.Volume) (*LungSampler, error) {
	if !v.HasLabels() {
		return nil, fmt.Errorf("scan %s has no lung mask", v.Info().UID)
	}
	st := v.Stats()
	s := &LungSampler{v: v, buf: make([]uint8, store.ChunkSize*store.ChunkSize*store.ChunkSize)}
	var total int64
	for ci := range st.Len() {
		if n := st.LungCount(ci); n > 0 {
			total += int64(n)
			s.chunks = append(s.chunks, ci)
			s.cum = append(s.cum, total)
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("scan %s: the lung mask is empty", v.Info().UID)
	}
	return s, nil
}

// LungVoxels returns the number of lung voxels the sampler draws from.
func (s *LungSampler) LungVoxels() int64 { return s.cum[len(s.cum)-1] }

// Draw returns a lung voxel (z, y, x), each with the same probability.
func (s *LungSampler) Draw(r *rand.Rand) ([3]int, error) {
	k := r.Int64N(s.LungVoxels())
	i := sort.Search(len(s.cum), func(i int) bool { return s.cum[i] > k })
	st := s.v.Stats()
	ci := s.chunks[i]
	cz, cy, cx := st.Coords(ci)
	shape := s.v.Shape()
	const cs = store.ChunkSize
	b := store.Box{Z: cz * cs, Y: cy * cs, X: cx * cs}
	b.D, b.H, b.W = min(cs, shape[0]-b.Z), min(cs, shape[1]-b.Y), min(cs, shape[2]-b.X)
	buf := s.buf[:b.Len()]
	if err := s.v.ReadLabels(b, 0, buf); err != nil {
		return [3]int{}, err
	}
	j := int(r.Int64N(int64(st.LungCount(ci))))
	for p, l := range buf {
		if store.IsLung(l) {
			if j == 0 {
				return [3]int{b.Z + p/(b.H*b.W), b.Y + p/b.W%b.H, b.X + p%b.W}, nil
			}
			j--
		}
	}
	return [3]int{}, fmt.Errorf("scan %s: chunk (%d,%d,%d) holds fewer lung voxels than its index says", s.v.Info().UID, cz, cy, cx)
}

// WindowedMean is the notebook's lung test done as it meant it: the mean
// of the n³ neighbourhood centred on c (n odd), each voxel windowed to
// [lo, hi] → [0, 1]; voxels outside the volume count as pad.
func WindowedMean(v *store.Volume, c [3]int, n int, lo, hi float64, pad int16) (float64, error) {
	h := n / 2
	buf := make([]int16, n*n*n)
	if err := v.ReadHU(store.Box{Z: c[0] - h, Y: c[1] - h, X: c[2] - h, D: n, H: n, W: n}, pad, buf); err != nil {
		return 0, err
	}
	sum := 0.0
	for _, x := range buf {
		sum += Window(float64(x), lo, hi)
	}
	return sum / float64(len(buf)), nil
}
