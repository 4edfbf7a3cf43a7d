package mine

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"voxmine/query"
	"voxmine/store"
)

// LungMode says how a centre is known to lie in the lung.
type LungMode string

// Lung modes.
const (
	LungAuto LungMode = "auto" // the mask where the scan has one, else hu
	LungMask LungMode = "mask" // labels 3 and 4 of the mask (5, the airway, is not lung)
	LungHU   LungMode = "hu"   // the notebook's intent: windowed 7³ mean ≤ 0.6
	LungNone LungMode = "none" // anywhere in the volume
)

// Avoid sets: which findings a negative keeps away from.
const (
	AvoidAnnotations = "annotations"
	AvoidExcluded    = "excluded"
	AvoidCandidates  = "candidates" // class-1 candidates
)

// NegativeParams are the settings of Negatives.
type NegativeParams struct {
	PerScan int     `json:"per_scan"`
	MinDist float64 `json:"min_dist_mm"`
	Seed    uint64  `json:"seed"`
	// AnnotatedOnly restricts mining to scans with annotated nodules, the
	// notebook's 601-series set.
	AnnotatedOnly bool     `json:"annotated_only"`
	Lung          LungMode `json:"lung"`
	// Surface measures distances to a finding's surface, not its centre.
	Surface bool `json:"dist_from_surface"`
	// ClearCube demands that no finding's sphere touches the cube.
	ClearCube bool     `json:"clear_cube"`
	Avoid     []string `json:"avoid"`
	// AllowEdge lets cubes stick out of the volume (padded with the
	// scan's pad value); by default the whole cube lies inside.
	AllowEdge bool `json:"allow_edge"`
	// MaxTries bounds the draws per patch before a scan gives up.
	MaxTries int `json:"max_tries_per_patch"`
	// Hardness chooses where centres come from: "uniform" (the default:
	// uniformly over the lung, as the notebook did), "hard" (on the
	// nodule-like spots ingest found, weighted by their response), or
	// "mix:F" (a fraction F hard). Not uniform, the index gains the columns
	// hardness and kind.
	Hardness string `json:"hardness,omitempty"`
}

// hardFraction parses Hardness: the share of centres drawn hard.
func (p NegativeParams) hardFraction() (float64, error) {
	switch h := p.Hardness; {
	case h == "" || h == "uniform":
		return 0, nil
	case h == "hard":
		return 1, nil
	case strings.HasPrefix(h, "mix:"):
		f, err := strconv.ParseFloat(strings.TrimPrefix(h, "mix:"), 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return 0, fmt.Errorf("hardness %q: mix:F needs a fraction F in 0…1", h)
		}
		return f, nil
	}
	return 0, fmt.Errorf("hardness %q: want uniform, hard or mix:F", p.Hardness)
}

// HardColumns are what bg_index.csv gains when --hardness is not uniform:
// the blob response at the centre (HU, query.SpotScore) and whether the
// centre was drawn "hard" or "uniform".
var HardColumns = []string{"hardness", "drawn"}

// DefaultNegatives are the notebook's settings done right.
func DefaultNegatives() NegativeParams {
	return NegativeParams{PerScan: 1, MinDist: 15, Lung: LungAuto, Avoid: []string{AvoidAnnotations, AvoidExcluded}, MaxTries: 200}
}

func (p *NegativeParams) validate() error {
	switch {
	case p.PerScan <= 0:
		return fmt.Errorf("per-scan %d is not positive", p.PerScan)
	case p.MinDist < 0 || math.IsNaN(p.MinDist):
		return fmt.Errorf("min-dist %v is negative", p.MinDist)
	}
	switch p.Lung {
	case LungAuto, LungMask, LungHU, LungNone:
	case "":
		p.Lung = LungAuto
	default:
		return fmt.Errorf("lung mode %q: want auto, mask, hu or none", p.Lung)
	}
	for _, a := range p.Avoid {
		if a != AvoidAnnotations && a != AvoidExcluded && a != AvoidCandidates {
			return fmt.Errorf("avoid %q: want annotations, excluded or candidates", a)
		}
	}
	if p.MaxTries <= 0 {
		p.MaxTries = 200
	}
	_, err := p.hardFraction()
	return err
}

// ScanRand is the random stream of one scan in a run: it depends only on
// the seed and the series uid, so results do not change with the number of
// workers or the order scans are visited in.
func ScanRand(seed uint64, uid string, stream string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	h.Write([]byte{0})
	h.Write([]byte(uid))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// spheres collects the findings of a series in the chosen avoid sets.
func spheres(f *store.SeriesFindings, avoid []string) []query.Sphere {
	var out []query.Sphere
	if f == nil {
		return nil
	}
	for _, a := range avoid {
		var list []store.Finding
		switch a {
		case AvoidAnnotations:
			list = f.Annotations
		case AvoidExcluded:
			list = f.Excluded
		case AvoidCandidates:
			for _, c := range f.Candidates {
				if c.Class == 1 {
					list = append(list, c)
				}
			}
		}
		for _, x := range list {
			out = append(out, query.SphereOf(x))
		}
	}
	return out
}

// hu lung test constants: the notebook's 7³ neighbourhood and threshold,
// and the floor voxmine adds: a neighbourhood whose windowed mean is below
// airMax (−975 HU: air around the patient, padding) is not lung. The
// notebook's test accepted the air outside the body; lung parenchyma, even
// emphysematous, averages above −960 over 7 mm.
const (
	huTestSize      = 7
	huTestThreshold = 0.6
	huTestAirMax    = 25.0 / 1400 // −975 HU in the [−1000, 400] window
)

// NegativeColumns are bg_index.csv's columns after patch_file: the
// notebook's first, in its order, then voxmine's.
//
// min_dist_mm and has_lung_mask mean what the notebook meant: the distance
// threshold of the run and whether the scan has a lung mask (0/1). The
// distances of the centre itself are in nearest_finding_mm (to the nearest
// finding avoided, by the run's --dist-from) and nearest_nodule_mm (to the
// nearest annotated nodule's centre). findings_in_cube counts the findings
// (annotations, excluded findings, and class-1 candidates when loaded)
// whose sphere the cube touches: with the notebook's distance rule a 64 mm
// cube often holds a nodule off its centre. docs/OUTPUTS.md has every column.
var NegativeColumns = []string{"seriesuid", "label", "center_z", "center_y", "center_x", "min_dist_mm", "has_lung_mask",
	"world_x", "world_y", "world_z", "nearest_finding_mm", "lung_fraction", "seed", "nearest_nodule_mm", "findings_in_cube"}

// negativeColumns are bg_index.csv's columns for a hardness setting.
func negativeColumns(hardness string) []string {
	if hardness == "" || hardness == "uniform" {
		return NegativeColumns
	}
	return append(append([]string(nil), NegativeColumns...), HardColumns...)
}

// Negatives mines background patches: per scan, PerScan centres drawn
// uniformly from the lung, at least MinDist mm from every finding in the
// Avoid sets, each written as a cube.
func Negatives(ctx context.Context, st *store.Store, o Output, p NegativeParams) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	load := st.Findings
	for _, a := range p.Avoid {
		if a == AvoidCandidates {
			load = st.FindingsWithCandidates
		}
	}
	findings, err := load()
	if err != nil {
		return nil, err
	}
	k := kind{name: "negatives", index: "bg_index.csv", columns: negativeColumns(p.Hardness)}
	k.scans = func(info store.ScanInfo) bool {
		if !p.AnnotatedOnly {
			return true
		}
		f := findings.Series[info.UID]
		return f != nil && len(f.Annotations) > 0
	}
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		return sampleNegatives(v, info, findings.Series[info.UID], o, p)
	}
	k.asked = func(store.ScanInfo) int { return p.PerScan }
	if p.Lung == LungAuto {
		n := 0
		for _, s := range st.Scans() {
			if !s.HasLabels && (k.scans == nil || k.scans(s)) {
				n++
			}
		}
		if n > 0 {
			k.warnings = append(k.warnings, fmt.Sprintf("%d scans have no lung labels: --lung auto tested their centres by HU instead (the notebook's 7³ test, air excluded), which is no lung mask", n))
		}
	}
	return run(ctx, st, o, k, p)
}

func sampleNegatives(v *store.Volume, info store.ScanInfo, f *store.SeriesFindings, o Output, p NegativeParams) ([]Sample, string, error) {
	mode := p.Lung
	if mode == LungAuto {
		mode = LungHU
		if info.HasLabels {
			mode = LungMask
		}
		// A computed mask that ingest flagged as implausible (all bowel gas,
		// one lung, no lungs at all) is not sampled from: its "lung" may be
		// anything. --lung mask uses it anyway, --lung hu ignores it.
		if bad := lungFlags(info); info.LabelSource == store.LabelsComputed && len(bad) > 0 {
			return nil, fmt.Sprintf("computed lung mask flagged (%s): not sampled under --lung auto (use --lung mask to sample it anyway, or --lung hu)", strings.Join(bad, "; ")), nil
		}
	}
	if mode == LungMask && !info.HasLabels {
		return nil, "no lung mask (--lung mask)", nil
	}
	if !p.AllowEdge {
		for a, n := range info.Grid.Shape {
			if o.Size > n {
				return nil, fmt.Sprintf("the %d mm cube is larger than the scan along %s (%d mm): use --allow-edge (padded) or a smaller --size", o.Size, [3]string{"z", "y", "x"}[a], n), nil
			}
		}
	}
	r := ScanRand(p.Seed, info.UID, "negatives")
	var lung *query.LungSampler
	if mode == LungMask {
		var err error
		if lung, err = query.NewLungSampler(v); err != nil {
			return nil, "empty lung mask", nil
		}
	}
	hardShare, _ := p.hardFraction()
	withHard := p.Hardness != "" && p.Hardness != "uniform"
	var spots *spotDraw
	if hardShare > 0 {
		blobs, err := v.Spots()
		if err != nil {
			return nil, "", err
		}
		if len(blobs) == 0 {
			why := "no nodule-like spots stored for this scan (ingest finds them where the scan has lung labels, and it has none)"
			if info.HasLabels {
				why = "no nodule-like spots stored for this scan (none stood out in its lungs, or the scan was ingested before voxmine found them: ingest --force recomputes)"
			}
			return nil, why, nil
		}
		spots = newSpotDraw(blobs)
	}
	// Every finding the cube may touch, for findings_in_cube.
	var all []query.Sphere
	if f != nil {
		all = spheres(f, []string{AvoidAnnotations, AvoidExcluded, AvoidCandidates})
	}
	seen := map[[3]int]bool{}
	spotsGone := false
	avoid := spheres(f, p.Avoid)
	var nodules []query.Sphere
	if f != nil {
		nodules = spheres(f, []string{AvoidAnnotations})
	}
	shape := info.Grid.Shape
	var out []Sample
	tries := 0
	for len(out) < p.PerScan && tries < p.MaxTries*p.PerScan {
		tries++
		var c [3]int
		hard := hardShare > 0 && (hardShare == 1 || r.Float64() < hardShare)
		if hard && spots.left() == 0 {
			spotsGone = true
			if hardShare == 1 {
				break
			}
			hard = false // mix: the rest are drawn uniformly, and the run says so
		}
		switch {
		case hard:
			b := spots.take(r)
			c = [3]int{b.Z, b.Y, b.X}
			if mode == LungMask {
				l, err := query.LabelAt(v, c)
				if err != nil {
					return nil, "", err
				}
				if !store.IsLung(l) {
					continue
				}
			}
		case lung != nil:
			var err error
			if c, err = lung.Draw(r); err != nil {
				return nil, "", err
			}
		default:
			c = [3]int{r.IntN(shape[0]), r.IntN(shape[1]), r.IntN(shape[2])}
		}
		if seen[c] {
			continue // no centre twice in a run
		}
		if !p.AllowEdge && !query.CubeInside(shape, c, o.Size) {
			continue
		}
		world := query.VoxelWorld(info.Grid, c)
		near, _ := query.Nearest(world, avoid, p.Surface)
		if near < p.MinDist {
			continue
		}
		if p.ClearCube {
			lo, hi := query.CubeWorldBounds(info.Grid, c, o.Size)
			touched := false
			for _, s := range avoid {
				if query.CubeTouches(lo, hi, s) {
					touched = true
					break
				}
			}
			if touched {
				continue
			}
		}
		if mode == LungHU {
			m, err := query.WindowedMean(v, c, huTestSize, -1000, 400, info.PadHU)
			if err != nil {
				return nil, "", err
			}
			if m > huTestThreshold || m < huTestAirMax {
				continue
			}
		}
		frac := ""
		if info.HasLabels {
			lf, err := query.LungFraction(v, c, o.Size)
			if err != nil {
				return nil, "", err
			}
			frac = strconv.FormatFloat(lf, 'f', 4, 64)
		}
		nodule, _ := query.Nearest(world, nodules, false)
		lo, hi := query.CubeWorldBounds(info.Grid, c, o.Size)
		touched := 0
		for _, s := range all {
			if query.CubeTouches(lo, hi, s) {
				touched++
			}
		}
		seen[c] = true
		i := len(out)
		row := []string{info.UID, "0", itoa(c[0]), itoa(c[1]), itoa(c[2]), strconv.FormatFloat(p.MinDist, 'f', -1, 64), zeroOne(info.HasLabels),
			mm(world[0]), mm(world[1]), mm(world[2]), mm(near), frac, strconv.FormatUint(p.Seed, 10), mm(nodule), itoa(touched)}
		kind := ""
		if withHard {
			resp, err := query.SpotScore(v, c, info.PadHU)
			if err != nil {
				return nil, "", err
			}
			kind = map[bool]string{true: "hard", false: "uniform"}[hard]
			row = append(row, strconv.FormatFloat(resp, 'f', 1, 64), kind)
		}
		out = append(out, Sample{UID: info.UID, Center: c, File: fmt.Sprintf("%s_bg%d.npy", info.UID, i), Row: row, Kind: kind})
	}
	rules := fmt.Sprintf("lung %s, min-dist %g mm", mode, p.MinDist)
	if p.ClearCube {
		rules += ", clear cube"
	}
	switch {
	case len(out) == 0 && spotsGone && hardShare == 1:
		return nil, fmt.Sprintf("every one of the %d nodule-like spots failed the rules (%s)", spots.n, rules), nil
	case len(out) == 0:
		return nil, fmt.Sprintf("no centre passed the rules in %d draws (%s)", tries, rules), nil
	case len(out) < p.PerScan && spotsGone && hardShare == 1:
		return out, fmt.Sprintf("the %d nodule-like spots are used up: %d of them passed the rules (%s)", spots.n, len(out), rules), nil
	case len(out) < p.PerScan:
		return out, fmt.Sprintf("only %d centres passed the rules in %d draws (%s)", len(out), tries, rules), nil
	case spotsGone:
		return out, fmt.Sprintf("the %d nodule-like spots were used up: the rest of the centres were drawn uniformly", spots.n), nil
	}
	return out, "", nil
}

// lungFlags returns a scan's flags about its lung mask.
func lungFlags(info store.ScanInfo) []string {
	var out []string
	for _, f := range info.Flags {
		if strings.HasPrefix(f, "lungs:") {
			out = append(out, f)
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// mm formats a distance or coordinate; +Inf (no finding) is left empty,
// which pandas reads as NaN.
func mm(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// zeroOne writes a flag as the notebook did: 1 or 0.
func zeroOne(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ParseAvoid reads a comma-separated list of avoid sets.
func ParseAvoid(s string) ([]string, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	out := strings.Split(s, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	p := NegativeParams{PerScan: 1, Avoid: out}
	return out, p.validate()
}
