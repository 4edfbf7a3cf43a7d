package mine

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"voxmine/query"
	"voxmine/store"
)

// CandidateParams are the settings of Candidates.
type CandidateParams struct {
	Class int `json:"class"`
	// PerScan keeps at most that many candidates per scan, a reproducible
	// random subset (0: all).
	PerScan int `json:"per_scan"`
	// MinDistToNodule drops candidates closer than that (mm, centre to
	// centre) to an annotated nodule; 0 keeps all.
	MinDistToNodule float64 `json:"min_dist_to_nodule_mm"`
	Seed            uint64  `json:"seed"`
}

func (p CandidateParams) validate() error {
	switch {
	case p.Class != 0 && p.Class != 1:
		return fmt.Errorf("class %d: want 0 or 1", p.Class)
	case p.PerScan < 0:
		return fmt.Errorf("per-scan %d is negative", p.PerScan)
	case p.MinDistToNodule < 0:
		return fmt.Errorf("min-dist-to-nodule %v is negative", p.MinDistToNodule)
	}
	return nil
}

// CandidateColumns are cand_index.csv's columns after patch_file.
var CandidateColumns = []string{"seriesuid", "label", "center_z", "center_y", "center_x", "world_x", "world_y", "world_z",
	"class", "nearest_nodule_mm", "candidate", "seed"}

// Candidates cuts a cube on candidates.csv rows of one class: class 0 are
// the CAD false positives, the classic hard negatives.
func Candidates(ctx context.Context, st *store.Store, o Output, p CandidateParams) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	findings, err := o.findings(st, true)
	if err != nil {
		return nil, err
	}
	k := kind{name: "candidates", index: "cand_index.csv", columns: CandidateColumns, findings: findings}
	k.scans = func(uid string) bool { return findings.Of(uid) != nil }
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		s, reason := sampleCandidates(info, findings.Of(info.UID), p, p.PerScan)
		return s, reason, nil
	}
	return run(ctx, st, o, k, p)
}

func sampleCandidates(info store.ScanInfo, f *store.SeriesFindings, p CandidateParams, limit int) ([]Sample, string) {
	if f == nil || len(f.Candidates) == 0 {
		return nil, "no candidates loaded for this series (ingest --candidates CSV)"
	}
	nodules := spheres(f, []string{AvoidAnnotations})
	type cand struct {
		row   int
		world [3]float64
		near  float64
	}
	var keep []cand
	for i, c := range f.Candidates {
		if c.Class != p.Class {
			continue
		}
		w := [3]float64{c.X, c.Y, c.Z}
		near, _ := query.Nearest(w, nodules, false)
		if near < p.MinDistToNodule {
			continue
		}
		if !query.Inside(info.Grid.Shape, query.NearestVoxel(info.Grid, w)) {
			continue
		}
		keep = append(keep, cand{i, w, near})
	}
	if limit > 0 && len(keep) > limit {
		r := ScanRand(p.Seed, info.UID, "candidates")
		r.Shuffle(len(keep), func(i, j int) { keep[i], keep[j] = keep[j], keep[i] })
		keep = keep[:limit]
		sort.Slice(keep, func(i, j int) bool { return keep[i].row < keep[j].row })
	}
	if len(keep) == 0 {
		return nil, fmt.Sprintf("no class-%d candidate inside the volume at least %g mm from a nodule", p.Class, p.MinDistToNodule)
	}
	out := make([]Sample, len(keep))
	for i, c := range keep {
		v := query.NearestVoxel(info.Grid, c.world)
		out[i] = Sample{UID: info.UID, Center: v, File: fmt.Sprintf("%s_cand%d.npy", info.UID, i),
			Row: []string{info.UID, strconv.Itoa(p.Class), itoa(v[0]), itoa(v[1]), itoa(v[2]), mm(c.world[0]), mm(c.world[1]), mm(c.world[2]),
				strconv.Itoa(p.Class), mm(c.near), itoa(c.row), strconv.FormatUint(p.Seed, 10)}}
	}
	return out, ""
}
