package mine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
	// MinReaders and Malignancy filter nodules on what LIDC-IDRI's readers
	// said (findings from their XML reads only): at least MinReaders
	// readers, and a median malignancy among Malignancy (empty: any).
	MinReaders int   `json:"min_readers,omitempty"`
	Malignancy []int `json:"malignancy,omitempty"`
}

// ReadColumns are the columns pos_index.csv gains when the store's
// findings came from LIDC-IDRI's XML reads: the readers who marked the
// nodule and their median characteristics.
var ReadColumns = []string{"readers", "subtlety", "internal_structure", "calcification", "sphericity", "margin",
	"lobulation", "spiculation", "texture", "malignancy"}

func (p PositiveParams) validate() error {
	switch {
	case p.Copies < 0:
		return fmt.Errorf("copies %d is negative", p.Copies)
	case p.Jitter < 0 || math.IsNaN(p.Jitter):
		return fmt.Errorf("jitter %v is negative", p.Jitter)
	case p.Copies > 0 && p.Jitter == 0:
		return fmt.Errorf("copies without jitter would repeat the same cube")
	case p.Jitter > 0 && p.Copies == 0:
		return fmt.Errorf("jitter %g mm without copies does nothing (the first cube of each nodule is centred): add --copies N", p.Jitter)
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
	findings, err := o.findings(st, false)
	if err != nil {
		return nil, err
	}
	withReads := hasReads(findings)
	if !withReads && (p.MinReaders > 0 || len(p.Malignancy) > 0) {
		return nil, fmt.Errorf("--min-readers and --malignancy need findings from LIDC-IDRI's XML reads (ingest a LIDC-IDRI download without --annotations)")
	}
	withLabels := hasLabels(findings)
	k := kind{name: "positives", index: "pos_index.csv", columns: positiveColumns(withReads, withLabels), findings: findings}
	k.scans = func(uid string) bool {
		f := findings.Of(uid)
		return f != nil && len(f.Annotations) > 0
	}
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		s, reason := samplePositives(info, findings.Of(info.UID), p, withReads, withLabels)
		return s, reason, nil
	}
	k.asked = func(uid string) int { return p.asked(findings.Of(uid)) }
	return run(ctx, st, o, k, p)
}

// asked is how many cubes the run asks of a series: one and the copies for
// each nodule that passes the filters (a nodule outside its scan included:
// it is a shortfall, said with its reason).
func (p PositiveParams) asked(f *store.SeriesFindings) int {
	if f == nil {
		return 0
	}
	n := 0
	for i, a := range f.Annotations {
		if (p.MinDiameter > 0 && a.Diameter < p.MinDiameter) || !p.readPasses(f.Read(i)) {
			continue
		}
		n++
	}
	return n * (1 + p.Copies)
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

// positiveColumns are pos_index.csv's columns, with ReadColumns when the
// findings came from LIDC-IDRI's reads and nodule_label when the
// annotations table labelled its nodules (LUNA25's malignancy label).
func positiveColumns(withReads, withLabels bool) []string {
	cols := slices.Clone(PositiveColumns)
	if withReads {
		cols = append(cols, ReadColumns...)
	}
	if withLabels {
		cols = append(cols, "nodule_label")
	}
	return cols
}

// hasLabels tells whether any annotation carries its table's label.
func hasLabels(f *store.Findings) bool { return f.Counts.Labelled > 0 }

// hasReads tells whether any series' findings came from LIDC-IDRI's reads,
// which gives the positives' index its ReadColumns.
func hasReads(f *store.Findings) bool { return f.Counts.WithReads > 0 }

func samplePositives(info store.ScanInfo, f *store.SeriesFindings, p PositiveParams, withReads, withLabels bool) ([]Sample, string) {
	if f == nil {
		return nil, "no annotated nodule"
	}
	r := ScanRand(p.Seed, info.UID, "positives")
	var out []Sample
	outside := 0
	for n, a := range f.Annotations {
		if p.MinDiameter > 0 && a.Diameter < p.MinDiameter {
			continue // a nodule of unknown size (−1, LUNA25) passes no minimum
		}
		read := f.Read(n)
		if !p.readPasses(read) {
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
			row := []string{info.UID, "1", itoa(cc[0]), itoa(cc[1]), itoa(cc[2]), mm(world[0]), mm(world[1]), mm(world[2]),
				mm(a.Diameter), itoa(cc[0] - c[0]), itoa(cc[1] - c[1]), itoa(cc[2] - c[2]), itoa(n), itoa(k),
				strconv.FormatUint(p.Seed, 10)}
			if withReads {
				row = append(row, readRow(read)...)
			}
			if withLabels {
				label := ""
				if a.Class >= 0 {
					label = itoa(a.Class)
				}
				row = append(row, label)
			}
			out = append(out, Sample{UID: info.UID, Center: cc, File: fmt.Sprintf("%s_pos%d.npy", info.UID, i), Row: row})
		}
	}
	if len(out) == 0 {
		if p.MinReaders > 0 || len(p.Malignancy) > 0 {
			return nil, "no nodule passes --min-readers/--malignancy"
		}
		if outside > 0 {
			return nil, fmt.Sprintf("%d nodules lie outside the volume (wrong direction or series?)", outside)
		}
		return nil, fmt.Sprintf("no nodule of at least %g mm", p.MinDiameter)
	}
	if outside > 0 {
		return out, fmt.Sprintf("%d nodules lie outside the volume (wrong direction or series?)", outside)
	}
	return out, ""
}

// readPasses applies the reader filters to a nodule's read (nil: a nodule
// that did not come from LIDC reads, which the filters then leave out).
func (p PositiveParams) readPasses(r *store.ReadNodule) bool {
	if p.MinReaders == 0 && len(p.Malignancy) == 0 {
		return true
	}
	if r == nil || r.Readers < p.MinReaders {
		return false
	}
	if len(p.Malignancy) == 0 {
		return true
	}
	if r.Characteristics == nil {
		return false
	}
	return slices.Contains(p.Malignancy, r.Characteristics[8])
}

// readRow is the ReadColumns of a nodule (empty without a read; an empty
// characteristic where no reader rated it).
func readRow(r *store.ReadNodule) []string {
	row := make([]string, len(ReadColumns))
	if r == nil {
		return row
	}
	row[0] = itoa(r.Readers)
	if r.Characteristics != nil {
		for i, v := range r.Characteristics {
			if v > 0 {
				row[1+i] = itoa(v)
			}
		}
	}
	return row
}
