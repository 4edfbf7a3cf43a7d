package mine

import (
	"context"
	"fmt"
	"math"
	"strings"

	"voxmine/store"
)

// DatasetParams are the settings of Dataset.
type DatasetParams struct {
	NegativesPerPositive float64 `json:"negatives_per_positive"`
	// HardFraction of the negatives are class-0 candidates; the rest are
	// random negatives.
	HardFraction float64        `json:"hard_fraction"`
	Positives    PositiveParams `json:"positives"`
	Negatives    NegativeParams `json:"negatives"`
	Seed         uint64         `json:"seed"`
}

// DatasetColumns are index.csv's first columns after patch_file, shared by
// every kind; datasetColumns adds the parts' own columns after them.
var DatasetColumns = []string{"seriesuid", "label", "kind", "center_z", "center_y", "center_x", "world_x", "world_y", "world_z"}

// datasetColumns is the whole header of index.csv: DatasetColumns, then
// every column of the positives', negatives' and candidates' indexes that
// is not there yet, in that order, each once. A column keeps its name and
// meaning from its part (nearest_nodule_mm is the same in negatives and
// candidates); a row leaves the columns of other kinds empty.
func datasetColumns(pos, neg []string) []string {
	cols := append([]string(nil), DatasetColumns...)
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
	}
	for _, part := range [][]string{pos, neg, CandidateColumns} {
		for _, c := range part {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
	}
	return cols
}

// Dataset writes positives, random negatives and hard negatives into one
// folder with one index.csv, negatives at the asked ratio to positives.
// Negatives are shared out over the scans evenly (by uid order), so the
// result is the same for any number of workers.
func Dataset(ctx context.Context, st *store.Store, o Output, p DatasetParams) (*Result, error) {
	if p.NegativesPerPositive < 0 || p.HardFraction < 0 || p.HardFraction > 1 {
		return nil, fmt.Errorf("negatives-per-positive %v and hard-fraction %v: want ≥ 0 and 0…1", p.NegativesPerPositive, p.HardFraction)
	}
	p.Positives.Seed, p.Negatives.Seed = p.Seed, p.Seed
	if err := p.Positives.validate(); err != nil {
		return nil, err
	}
	p.Negatives.PerScan = 1
	if err := p.Negatives.validate(); err != nil {
		return nil, err
	}
	findings, err := o.findings(st, true)
	if err != nil {
		return nil, err
	}
	// Count the positives first: the negatives follow from them.
	scans, err := o.chosen(st)
	if err != nil {
		return nil, err
	}
	npos, nhardScans := 0, 0
	for _, uid := range scans {
		f := findings.Of(uid)
		if f == nil {
			continue
		}
		if len(f.Annotations) > 0 {
			info, _, err := st.Lookup(uid)
			if err != nil {
				return nil, err
			}
			if pos, _ := samplePositives(info, f, p.Positives, false, false); pos != nil {
				npos += len(pos)
			}
		}
		if len(f.Candidates) > 0 {
			nhardScans++
		}
	}
	negTotal := int(math.Round(float64(npos) * p.NegativesPerPositive))
	hardTotal := int(math.Round(float64(negTotal) * p.HardFraction))
	randTotal := negTotal - hardTotal
	share := func(total, n, i int) int { // total spread over n, the first ones get the remainder
		if n == 0 {
			return 0
		}
		q := total / n
		if i < total%n {
			q++
		}
		return q
	}
	order := map[string]int{}
	hardOrder := map[string]int{}
	for i, uid := range scans {
		order[uid] = i
		if f := findings.Of(uid); f != nil && len(f.Candidates) > 0 {
			hardOrder[uid] = len(hardOrder)
		}
	}
	withReads, withLabels := hasReads(findings), hasLabels(findings)
	posCols, negCols := positiveColumns(withReads, withLabels), negativeColumns(p.Negatives.Hardness)
	columns := datasetColumns(posCols, negCols)
	at := map[string]int{}
	for i, c := range columns {
		at[c] = i
	}
	k := kind{name: "dataset", index: "index.csv", columns: columns, findings: findings}
	if hardTotal > 0 && nhardScans == 0 {
		k.short = append(k.short, Shortfall{Asked: hardTotal, Reason: fmt.Sprintf(
			"%d hard negatives asked (--hard-fraction %g), but no scan has class-0 candidates (ingest --candidates CSV, or --hard-fraction 0)",
			hardTotal, p.HardFraction)})
	}
	k.asked = func(uid string) int {
		n := p.Positives.asked(findings.Of(uid)) + share(randTotal, len(scans), order[uid])
		if i, ok := hardOrder[uid]; ok {
			n += share(hardTotal, nhardScans, i)
		}
		return n
	}
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		f := findings.Of(info.UID)
		var out []Sample
		// add puts a part's rows into index.csv's columns by name; the
		// label is the dataset's (a class-0 candidate is a negative).
		add := func(kindName, label string, partCols []string, s []Sample) {
			for _, x := range s {
				row := make([]string, len(columns))
				for i, c := range partCols {
					row[at[c]] = x.Row[i]
				}
				row[at["label"]], row[at["kind"]] = label, kindName
				out = append(out, Sample{UID: x.UID, Center: x.Center, File: x.File, Row: row, Kind: kindName})
			}
		}
		var why []string // each part's shortfall
		pos, reason := samplePositives(info, f, p.Positives, withReads, withLabels)
		if reason != "" && p.Positives.asked(f) > 0 {
			why = append(why, "positives: "+reason)
		}
		add("positive", "1", posCols, pos)
		if n := share(randTotal, len(scans), order[info.UID]); n > 0 {
			np := p.Negatives
			np.PerScan = n
			neg, reason, err := sampleNegatives(v, info, f, o, np)
			if err != nil {
				return nil, "", err
			}
			if len(neg) < n {
				why = append(why, fmt.Sprintf("negatives: %d of %d: %s", len(neg), n, reason))
			}
			add("negative", "0", negCols, neg)
		}
		if i, ok := hardOrder[info.UID]; ok {
			if n := share(hardTotal, nhardScans, i); n > 0 {
				hard, reason := sampleCandidates(info, f, CandidateParams{Class: 0, Seed: p.Seed, MinDistToNodule: p.Negatives.MinDist}, n)
				if len(hard) < n {
					if reason == "" {
						reason = "too few class-0 candidates in the volume at least the min-dist from a nodule"
					}
					why = append(why, fmt.Sprintf("hard negatives: %d of %d: %s", len(hard), n, reason))
				}
				add("hard_negative", "0", CandidateColumns, hard)
			}
		}
		if len(out) == 0 {
			if len(why) > 0 {
				return nil, strings.Join(why, "; "), nil
			}
			return nil, "nothing to cut", nil
		}
		return out, strings.Join(why, "; "), nil
	}
	return run(ctx, st, o, k, p)
}
