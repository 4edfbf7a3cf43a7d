package mine

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
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
	findings, err := o.findings(st, slices.Contains(p.Avoid, AvoidCandidates))
	if err != nil {
		return nil, err
	}
	k := kind{name: "negatives", index: "bg_index.csv", columns: negativeColumns(p.Hardness), findings: findings}
	k.scans = func(uid string) bool {
		if !p.AnnotatedOnly {
			return true
		}
		f := findings.Of(uid)
		return f != nil && len(f.Annotations) > 0
	}
	k.sample = func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error) {
		return sampleNegatives(v, info, findings.Of(info.UID), o, p)
	}
	k.asked = func(string) int { return p.PerScan }
	if p.Lung == LungAuto {
		k.unlabelled = func(n int) string {
			return fmt.Sprintf("%d scans have no lung labels: --lung auto tested their centres by HU instead (the notebook's 7³ test, air excluded), which is no lung mask", n)
		}
	}
	return run(ctx, st, o, k, p)
}

func sampleNegatives(v *store.Volume, info store.ScanInfo, f *store.SeriesFindings, o Output, p NegativeParams) ([]Sample, string, error) {
	mode, why := lungModeOf(info, o, p)
	if why != "" {
		return nil, why, nil
	}
	d, why, err := newNegativeDraw(v, info, f, o, p, mode)
	if why != "" || err != nil {
		return nil, why, err
	}
	var out []Sample
	for len(out) < p.PerScan && d.tries < p.MaxTries*p.PerScan {
		d.tries++
		c, hard, ok, err := d.draw()
		if err != nil {
			return nil, "", err
		}
		if d.spotsGone && d.hardShare == 1 {
			break
		}
		if !ok {
			continue
		}
		near, ok, err := d.passes(c)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
		}
		s, err := d.sample(c, near, hard, len(out))
		if err != nil {
			return nil, "", err
		}
		out = append(out, s)
	}
	return out, d.shortfall(len(out)), nil
}

// lungModeOf is the lung rule a scan is sampled by (--lung auto: its mask
// where it has one, else the HU test), or why the scan is not sampled.
func lungModeOf(info store.ScanInfo, o Output, p NegativeParams) (LungMode, string) {
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
			return mode, fmt.Sprintf("computed lung mask flagged (%s): not sampled under --lung auto (use --lung mask to sample it anyway, or --lung hu)", strings.Join(bad, "; "))
		}
	}
	if mode == LungMask && !info.HasLabels {
		return mode, "no lung mask (--lung mask)"
	}
	if !p.AllowEdge {
		for a, n := range info.Grid.Shape {
			if o.Size > n {
				return mode, fmt.Sprintf("the %d mm cube is larger than the scan along %s (%d mm): use --allow-edge (padded) or a smaller --size", o.Size, [3]string{"z", "y", "x"}[a], n)
			}
		}
	}
	return mode, ""
}

// negativeDraw draws one scan's negative centres and checks them against
// the run's rules. Its random stream depends only on the seed and the uid.
type negativeDraw struct {
	v      *store.Volume
	info   store.ScanInfo
	o      Output
	p      NegativeParams
	mode   LungMode
	r      *rand.Rand
	lung   *query.LungSampler // lung-uniform draws, with --lung mask
	spots  *spotDraw          // nodule-like spots, with --hardness
	avoid  []query.Sphere     // the findings to keep away from
	all    []query.Sphere     // every finding, for findings_in_cube
	nodule []query.Sphere     // the annotations, for nearest_nodule_mm
	seen   map[[3]int]bool    // centres taken: none twice

	hardShare float64
	withHard  bool
	spotsGone bool // every spot has been drawn
	tries     int
}

// newNegativeDraw sets up a scan's draws, or says why it has none.
func newNegativeDraw(v *store.Volume, info store.ScanInfo, f *store.SeriesFindings, o Output, p NegativeParams, mode LungMode) (*negativeDraw, string, error) {
	d := &negativeDraw{v: v, info: info, o: o, p: p, mode: mode, r: ScanRand(p.Seed, info.UID, "negatives"), seen: map[[3]int]bool{}}
	if mode == LungMask {
		var err error
		if d.lung, err = query.NewLungSampler(v); err != nil {
			return nil, "empty lung mask", nil
		}
	}
	d.hardShare, _ = p.hardFraction()
	d.withHard = p.Hardness != "" && p.Hardness != "uniform"
	if d.hardShare > 0 {
		spots, err := v.Spots()
		if err != nil {
			return nil, "", err
		}
		if len(spots) == 0 {
			why := "no nodule-like spots stored for this scan (ingest finds them where the scan has lung labels, and it has none)"
			if info.HasLabels {
				why = "no nodule-like spots stored for this scan (none stood out in its lungs, or the scan was ingested before voxmine found them: ingest --force recomputes)"
			}
			return nil, why, nil
		}
		d.spots = newSpotDraw(spots)
	}
	if f != nil {
		d.all = spheres(f, []string{AvoidAnnotations, AvoidExcluded, AvoidCandidates})
		d.nodule = spheres(f, []string{AvoidAnnotations})
	}
	d.avoid = spheres(f, d.p.Avoid)
	return d, "", nil
}

// draw draws a centre: on a nodule-like spot (hard, as --hardness asks),
// lung-uniform, or anywhere in the volume (--lung hu or none). ok is false
// for a spot outside the lung mask; when the spots are used up, spotsGone
// is set and a mix draws uniformly instead.
func (d *negativeDraw) draw() (c [3]int, hard, ok bool, err error) {
	hard = d.hardShare > 0 && (d.hardShare == 1 || d.r.Float64() < d.hardShare)
	if hard && d.spots.left == 0 {
		d.spotsGone = true
		if d.hardShare == 1 {
			return c, false, false, nil
		}
		hard = false // mix: the rest are drawn uniformly, and the run says so
	}
	shape := d.info.Grid.Shape
	switch {
	case hard:
		b := d.spots.take(d.r)
		c = [3]int{b.Z, b.Y, b.X}
		if d.mode == LungMask {
			l, err := query.LabelAt(d.v, c)
			if err != nil || !store.IsLung(l) {
				return c, hard, false, err
			}
		}
	case d.lung != nil:
		if c, err = d.lung.Draw(d.r); err != nil {
			return c, hard, false, err
		}
	default:
		c = [3]int{d.r.IntN(shape[0]), d.r.IntN(shape[1]), d.r.IntN(shape[2])}
	}
	return c, hard, true, nil
}

// passes checks a centre against the rules: not drawn before, the cube
// inside the volume (unless --allow-edge), the distance to every finding
// avoided, a clear cube (--clear-cube), and the HU test (--lung hu). It
// returns the distance to the nearest finding avoided.
func (d *negativeDraw) passes(c [3]int) (near float64, ok bool, err error) {
	p, info := d.p, d.info
	if d.seen[c] {
		return 0, false, nil // no centre twice in a run
	}
	if !p.AllowEdge && !query.CubeInside(info.Grid.Shape, c, d.o.Size) {
		return 0, false, nil
	}
	world := query.VoxelWorld(info.Grid, c)
	near, _ = query.Nearest(world, d.avoid, p.Surface)
	if near < p.MinDist {
		return near, false, nil
	}
	if p.ClearCube {
		lo, hi := query.CubeWorldBounds(info.Grid, c, d.o.Size)
		for _, s := range d.avoid {
			if query.CubeTouches(lo, hi, s) {
				return near, false, nil
			}
		}
	}
	if d.mode == LungHU {
		m, err := query.WindowedMean(d.v, c, huTestSize, -1000, 400, info.PadHU)
		if err != nil {
			return near, false, err
		}
		if m > huTestThreshold || m < huTestAirMax {
			return near, false, nil
		}
	}
	return near, true, nil
}

// sample is the accepted centre c as sample i, with its index row.
func (d *negativeDraw) sample(c [3]int, near float64, hard bool, i int) (Sample, error) {
	p, info := d.p, d.info
	frac := ""
	if info.HasLabels {
		lf, err := query.LungFraction(d.v, c, d.o.Size)
		if err != nil {
			return Sample{}, err
		}
		frac = strconv.FormatFloat(lf, 'f', 4, 64)
	}
	world := query.VoxelWorld(info.Grid, c)
	nodule, _ := query.Nearest(world, d.nodule, false)
	lo, hi := query.CubeWorldBounds(info.Grid, c, d.o.Size)
	touched := 0
	for _, s := range d.all {
		if query.CubeTouches(lo, hi, s) {
			touched++
		}
	}
	d.seen[c] = true
	row := []string{info.UID, "0", itoa(c[0]), itoa(c[1]), itoa(c[2]), strconv.FormatFloat(p.MinDist, 'f', -1, 64), zeroOne(info.HasLabels),
		mm(world[0]), mm(world[1]), mm(world[2]), mm(near), frac, strconv.FormatUint(p.Seed, 10), mm(nodule), itoa(touched)}
	kind := ""
	if d.withHard {
		resp, err := query.SpotScore(d.v, c, info.PadHU)
		if err != nil {
			return Sample{}, err
		}
		kind = map[bool]string{true: "hard", false: "uniform"}[hard]
		row = append(row, strconv.FormatFloat(resp, 'f', 1, 64), kind)
	}
	return Sample{UID: info.UID, Center: c, File: fmt.Sprintf("%s_bg%d.npy", info.UID, i), Row: row, Kind: kind}, nil
}

// shortfall says why a scan gave got centres, when it is fewer than asked
// or the spots ran out ("" when nothing fell short).
func (d *negativeDraw) shortfall(got int) string {
	p := d.p
	rules := fmt.Sprintf("lung %s, min-dist %g mm", d.mode, p.MinDist)
	if p.ClearCube {
		rules += ", clear cube"
	}
	switch {
	case got == 0 && d.spotsGone && d.hardShare == 1:
		return fmt.Sprintf("every one of the %d nodule-like spots failed the rules (%s)", d.spots.n, rules)
	case got == 0:
		return fmt.Sprintf("no centre passed the rules in %d draws (%s)", d.tries, rules)
	case got < p.PerScan && d.spotsGone && d.hardShare == 1:
		return fmt.Sprintf("the %d nodule-like spots are used up: %d of them passed the rules (%s)", d.spots.n, got, rules)
	case got < p.PerScan:
		return fmt.Sprintf("only %d centres passed the rules in %d draws (%s)", got, d.tries, rules)
	case d.spotsGone:
		return fmt.Sprintf("the %d nodule-like spots were used up: the rest of the centres were drawn uniformly", d.spots.n)
	}
	return ""
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
