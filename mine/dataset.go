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
	d, err := planDataset(st, o, p)
	if err != nil {
		return nil, err
	}
	k := kind{name: "dataset", index: "index.csv", columns: d.columns, findings: d.findings, asked: d.asked, sample: d.sample}
	if d.hardTotal > 0 && d.hardScans == 0 {
		k.short = append(k.short, Shortfall{Asked: d.hardTotal, Reason: fmt.Sprintf(
			"%d hard negatives asked (--hard-fraction %g), but no scan has class-0 candidates (ingest --candidates CSV, or --hard-fraction 0)",
			d.hardTotal, p.HardFraction)})
	}
	return run(ctx, st, o, k, p)
}

// datasetPlan is what a dataset run asks of each scan: its positives, its
// share of the random negatives, and, for scans with class-0 candidates,
// its share of the hard ones.
type datasetPlan struct {
	p        DatasetParams
	o        Output
	findings *store.Findings
	scans    []string
	// order and hardOrder number the scans, and those with candidates,
	// for share.
	order, hardOrder     map[string]int
	randTotal, hardTotal int
	hardScans            int

	withReads, withLabels bool
	posCols, negCols      []string
	columns               []string
	at                    map[string]int // column → index in columns
}

// planDataset checks the settings and counts the positives first: the
// negatives follow from them.
func planDataset(st *store.Store, o Output, p DatasetParams) (*datasetPlan, error) {
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
	d := &datasetPlan{p: p, o: o, order: map[string]int{}, hardOrder: map[string]int{}}
	var err error
	if d.findings, err = o.findings(st, true); err != nil {
		return nil, err
	}
	if d.scans, err = o.chosen(st); err != nil {
		return nil, err
	}
	npos := 0
	for i, uid := range d.scans {
		d.order[uid] = i
		f := d.findings.Of(uid)
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
			d.hardOrder[uid] = d.hardScans
			d.hardScans++
		}
	}
	negTotal := int(math.Round(float64(npos) * p.NegativesPerPositive))
	d.hardTotal = int(math.Round(float64(negTotal) * p.HardFraction))
	d.randTotal = negTotal - d.hardTotal
	d.withReads, d.withLabels = hasReads(d.findings), hasLabels(d.findings)
	d.posCols, d.negCols = positiveColumns(d.withReads, d.withLabels), negativeColumns(p.Negatives.Hardness)
	d.columns = datasetColumns(d.posCols, d.negCols)
	d.at = map[string]int{}
	for i, c := range d.columns {
		d.at[c] = i
	}
	return d, nil
}

// share spreads total over n: item i's part, the first ones taking the
// remainder.
func share(total, n, i int) int {
	if n == 0 {
		return 0
	}
	q := total / n
	if i < total%n {
		q++
	}
	return q
}

// asked is how many patches the plan asks of scan uid.
func (d *datasetPlan) asked(uid string) int {
	n := d.p.Positives.asked(d.findings.Of(uid)) + share(d.randTotal, len(d.scans), d.order[uid])
	if i, ok := d.hardOrder[uid]; ok {
		n += share(d.hardTotal, d.hardScans, i)
	}
	return n
}

// rows puts a part's samples into index.csv's columns by name; the label
// is the dataset's (a class-0 candidate is a negative).
func (d *datasetPlan) rows(out []Sample, kindName, label string, partCols []string, s []Sample) []Sample {
	for _, x := range s {
		row := make([]string, len(d.columns))
		for i, c := range partCols {
			row[d.at[c]] = x.Row[i]
		}
		row[d.at["label"]], row[d.at["kind"]] = label, kindName
		out = append(out, Sample{UID: x.UID, Center: x.Center, File: x.File, Row: row, Kind: kindName})
	}
	return out
}

// sample draws a scan's part of the dataset: its positives, its random
// negatives and its hard ones, with each part's shortfall.
func (d *datasetPlan) sample(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
	p := d.p
	f := d.findings.Of(info.UID)
	var out []Sample
	var why []string // each part's shortfall
	pos, reason := samplePositives(info, f, p.Positives, d.withReads, d.withLabels)
	if reason != "" && p.Positives.asked(f) > 0 {
		why = append(why, "positives: "+reason)
	}
	out = d.rows(out, "positive", "1", d.posCols, pos)
	if n := share(d.randTotal, len(d.scans), d.order[info.UID]); n > 0 {
		np := p.Negatives
		np.PerScan = n
		neg, reason, err := sampleNegatives(v, info, f, d.o, np)
		if err != nil {
			return nil, "", err
		}
		if len(neg) < n {
			why = append(why, fmt.Sprintf("negatives: %d of %d: %s", len(neg), n, reason))
		}
		out = d.rows(out, "negative", "0", d.negCols, neg)
	}
	if i, ok := d.hardOrder[info.UID]; ok {
		if n := share(d.hardTotal, d.hardScans, i); n > 0 {
			hard, reason := sampleCandidates(info, f, CandidateParams{Class: 0, Seed: p.Seed, MinDistToNodule: p.Negatives.MinDist}, n)
			if len(hard) < n {
				if reason == "" {
					reason = "too few class-0 candidates in the volume at least the min-dist from a nodule"
				}
				why = append(why, fmt.Sprintf("hard negatives: %d of %d: %s", len(hard), n, reason))
			}
			out = d.rows(out, "hard_negative", "0", CandidateColumns, hard)
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
