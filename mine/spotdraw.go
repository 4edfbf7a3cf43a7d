package mine

import (
	"math/rand/v2"
	"sort"

	"voxmine/store"
)

// spotDraw draws nodule-like spots weighted by their response, each at
// most once: a hard negative twice in a run is the same sample twice.
type spotDraw struct {
	spots []store.Spot
	used  []bool
	n     int // spots in all
	left  int // spots not drawn yet
	cum   []float64
}

func newSpotDraw(spots []store.Spot) *spotDraw {
	d := &spotDraw{spots: spots, used: make([]bool, len(spots)), n: len(spots), left: len(spots), cum: make([]float64, len(spots))}
	d.reweigh()
	return d
}

func (d *spotDraw) reweigh() {
	total := 0.0
	for i, b := range d.spots {
		if !d.used[i] {
			total += float64(b.Response)
		}
		d.cum[i] = total
	}
}

// take draws one unused spot, weighted by response, and marks it used.
func (d *spotDraw) take(r *rand.Rand) store.Spot {
	k := r.Float64() * d.cum[len(d.cum)-1]
	i := sort.SearchFloat64s(d.cum, k)
	for i < len(d.spots)-1 && d.used[i] { // a used spot has no width: step on
		i++
	}
	for d.used[i] {
		i--
	}
	d.used[i] = true
	d.left--
	d.reweigh()
	return d.spots[i]
}
