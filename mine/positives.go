package mine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"voxmine/query"
	"voxmine/store"
)

// PositiveParams are the settings of Positives.
type PositiveParams struct {
	// Copies adds that many jittered cubes per nodule, besides the centred one.
	Copies int `json:"copies"`
	// Jitter is the radius in mm of the ball jittered centres are drawn from.
	Jitter      float64 `json:"jitter_mm"`
	MinDiameter float64 `json:"min_diameter_mm"`
	Seed        uint64  `json:"seed"`
}

func (p PositiveParams) validate() error {
	switch {
	case p.Copies < 0:
		return fmt.Errorf("copies %d is negative", p.Copies)
	case p.Jitter < 0 || math.IsNaN(p.Jitter):
		return fmt.Errorf("jitter %v is negative", p.Jitter)
	case p.Copies > 0 && p.Jitter == 0:
		return fmt.Errorf("copies without jitter would repeat the same cube")
	}
	return nil
}

// PositiveColumns are pos_index.csv's columns after patch_file.
var PositiveColumns = []string{"seriesuid", "label", "center_z", "center_y", "center_x", "world_x", "world_y", "world_z",
	"diameter_mm", "offset_z", "offset_y", "offset_x", "nodule", "copy", "seed"}

// Positives cuts a cube centred on every annotated nodule (world → 1 mm
// voxel through the direction matrix). Nodules near the volume's edge are
// kept, their cubes padded on the side that falls out. Copies adds
// jittered cubes, reproducibly.
func Positives(ctx context.Context, st *store.Store, o Output, p PositiveParams) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	findings, err := st.Findings()
	if err != nil {
		return nil, err
	}
	k := kind{name: "positives", index: "pos_index.csv", columns: PositiveColumns}
	k.scans = func(info store.ScanInfo) bool {
		f := findings.Series[info.UID]
		return f != nil && len(f.Annotations) > 0
	}
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		s, reason := samplePositives(info, findings.Series[info.UID], p)
		return s, reason, nil
	}
	return run(ctx, st, o, k, p)
}

// ballOffset draws a point uniformly from the ball of radius r.
func ballOffset(r *rand.Rand, radius float64) [3]float64 {
	for {
		v := [3]float64{2*r.Float64() - 1, 2*r.Float64() - 1, 2*r.Float64() - 1}
		if v[0]*v[0]+v[1]*v[1]+v[2]*v[2] <= 1 {
			return [3]float64{v[0] * radius, v[1] * radius, v[2] * radius}
		}
	}
}

func samplePositives(info store.ScanInfo, f *store.SeriesFindings, p PositiveParams) ([]Sample, string) {
	if f == nil {
		return nil, "no annotated nodule"
	}
	r := ScanRand(p.Seed, info.UID, "positives")
	var out []Sample
	outside := 0
	for n, a := range f.Annotations {
		if a.Diameter < p.MinDiameter {
			continue
		}
		world := [3]float64{a.X, a.Y, a.Z}
		c := query.NearestVoxel(info.Grid, world)
		if !query.Inside(info.Grid.Shape, c) {
			outside++ // a nodule outside its scan is a data error: say so
			continue
		}
		for k := 0; k <= p.Copies; k++ {
			cc := c
			if k > 0 {
				off := ballOffset(r, p.Jitter)
				cc = query.NearestVoxel(info.Grid, [3]float64{world[0] + off[0], world[1] + off[1], world[2] + off[2]})
			}
			i := len(out)
			out = append(out, Sample{
				UID: info.UID, Center: cc, File: fmt.Sprintf("%s_pos%d.npy", info.UID, i),
				Row: []string{info.UID, "1", itoa(cc[0]), itoa(cc[1]), itoa(cc[2]), mm(world[0]), mm(world[1]), mm(world[2]),
					mm(a.Diameter), itoa(cc[0] - c[0]), itoa(cc[1] - c[1]), itoa(cc[2] - c[2]), itoa(n), itoa(k),
					strconv.FormatUint(p.Seed, 10)},
			})
		}
	}
	if len(out) == 0 {
		if outside > 0 {
			return nil, fmt.Sprintf("%d nodules lie outside the volume (wrong direction or series?)", outside)
		}
		return nil, fmt.Sprintf("no nodule of at least %g mm", p.MinDiameter)
	}
	return out, ""
}
