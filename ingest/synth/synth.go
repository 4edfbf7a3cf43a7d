package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"voxmine/ingest/metaimage"
	"voxmine/internal/workpool"
	"voxmine/store/grid"
)

// Options choose what Generate writes.
type Options struct {
	// N is the number of regular scans.
	N int
	// Seed makes the dataset; the same seed gives the same bytes.
	Seed uint64
	// Small makes small scans (about 160 mm across at ~1 mm) for tests.
	Small bool
	// Variants adds scans in the other MetaImage forms (big-endian, .zraw,
	// HeaderSize, .mha with LOCAL data) and three broken ones (a truncated
	// .raw, a header without DimSize, an unsupported element type).
	Variants bool
	// Hard makes the phantoms harder to segment, as real scans are: lungs
	// cut by the top of the volume, and stomach and bowel gas in an abdomen
	// below them. Their truth masks stay exact.
	Hard bool
	// SmallFOV reconstructs a circle smaller than the chest, as a
	// cropped or zoomed reconstruction does: the lungs are cut at both
	// sides and the back by the field of view, padding beyond it. The truth
	// masks hold the lung inside the circle only.
	SmallFOV bool
	// Padding lists the values drawn for the pixels outside the field of
	// view; nil means −2048, −2000 and −3024. Some scanners and converters
	// write −1024 or 0, values that real air or tissue can hold too.
	Padding []int16
	// Workers generate scans in parallel; 0 means 1.
	Workers int
	// Progress, when set, is called after each scan is written.
	Progress func(done, total int)
}

// Variant names, as recorded in the truth file.
const (
	VariantMSB        = "big-endian"
	VariantZraw       = "zraw"
	VariantHeaderSize = "header-size"
	VariantLocal      = "mha-local"
	BrokenTruncated   = "truncated-raw"
	BrokenNoDimSize   = "missing-dimsize"
	BrokenType        = "unsupported-type"
)

var variants = []string{VariantMSB, VariantZraw, VariantHeaderSize, VariantLocal, BrokenTruncated, BrokenNoDimSize, BrokenType}

// IsBroken reports whether a variant is meant to fail ingest.
func IsBroken(v string) bool {
	return v == BrokenTruncated || v == BrokenNoDimSize || v == BrokenType
}

// Generate writes a LUNA16-like dataset into dir, which must be empty or
// absent, and returns the ground truth it also writes to dir/truth.json.
func Generate(ctx context.Context, dir string, o Options) (*Truth, error) {
	if o.N < 0 {
		return nil, fmt.Errorf("synthetic: %d scans", o.N)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("synthetic: %s is not empty; choose a new folder", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "seg-lungs-LUNA16"), 0o755); err != nil {
		return nil, err
	}
	total := o.N
	if o.Variants {
		total += len(variants)
	}
	truth := &Truth{Seed: o.Seed, Small: o.Small, Scans: make([]ScanTruth, total)}
	var mu sync.Mutex
	done := 0
	err := workpool.Run(ctx, total, o.Workers, func(i int) error {
		variant := ""
		if i >= o.N {
			variant = variants[i-o.N]
		}
		st, err := writeScan(ctx, dir, o, i, variant)
		if err != nil {
			return err
		}
		truth.Scans[i] = *st
		if o.Progress != nil {
			mu.Lock()
			done++
			o.Progress(done, total)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := writeCSVs(dir, truth); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(truth, "", " ")
	if err != nil {
		return nil, err
	}
	return truth, os.WriteFile(filepath.Join(dir, "truth.json"), b, 0o644)
}

// scanRand returns the random stream of scan i of a seed.
func scanRand(seed uint64, i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed*0x9E3779B97F4A7C15+uint64(i), stream))
}

func seriesUID(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("1.3.6.1.4.1.14519.5.2.1.6279.6001.")
	b.WriteByte(byte('1' + r.IntN(9)))
	for range 29 {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

// sliceSpacings are LUNA16's common slice spacings, weighted by how often
// they occur (2.5 mm: 284 scans, 1.25 mm: 220, 0.625 mm: 128, others).
var sliceSpacings = []struct {
	mm     float64
	weight int
}{{2.5, 284}, {1.25, 220}, {0.625, 128}, {2.0, 90}, {1.0, 80}, {1.5, 40}, {1.8, 30}}

func drawSliceSpacing(r *rand.Rand) float64 {
	n := r.IntN(872)
	for _, s := range sliceSpacings {
		if n < s.weight {
			return s.mm
		}
		n -= s.weight
	}
	return 2.5
}

// Draw draws scan i of a dataset in memory, as Generate would write it:
// its truth, its HU (x fastest, then y, then z, as the .raw holds them) and
// its lung mask. Tests that need a full-size phantom but not its files
// use it and skip writing, compressing and reading some 100 MB.
func Draw(o Options, i int) (*ScanTruth, []int16, []uint8) {
	st, hu, mask, _ := drawScan(context.Background(), o, i, "")
	return st, hu, mask
}

// Geometry is the scan's grid (shape in z, y, x order).
func (st *ScanTruth) Geometry() grid.Geometry {
	return grid.Geometry{Shape: [3]int{st.Size[2], st.Size[1], st.Size[0]}, Origin: st.Origin, Spacing: st.Spacing, Direction: st.Direction}
}

func drawScan(ctx context.Context, o Options, i int, variant string) (*ScanTruth, []int16, []uint8, error) {
	r := scanRand(o.Seed, i, 1)
	uid := seriesUID(r)
	var nx int
	var sxy, sz, extentZ float64
	if o.Small {
		nx = 144 + 8*r.IntN(5)
		sxy = 1.0 + 0.15*r.Float64()
		sz = []float64{1.25, 2.0, 2.5}[r.IntN(3)]
		extentZ = 110 + 20*r.Float64()
	} else {
		nx = 512
		sxy = 0.55 + 0.4*r.Float64()
		sz = drawSliceSpacing(r)
		extentZ = 280 + 60*r.Float64()
		if sz < 1 {
			extentZ = 220 + 30*r.Float64() // thin-slice scans cover less
		}
	}
	sxy = math.Round(sxy*1e6) / 1e6
	nz := int(math.Round(extentZ / sz))
	fov := float64(nx) * sxy
	mirrored := r.IntN(8) == 0 || variant == VariantLocal
	st := &ScanTruth{
		UID: uid, Index: i, Variant: variant, Subset: i / 89 % 10,
		Size: [3]int{nx, nx, nz}, Spacing: [3]float64{sxy, sxy, sz},
		Direction: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, Mirrored: mirrored,
	}
	ox := -fov/2 + r.NormFloat64()*8
	oy := -fov/2 + 10 + r.NormFloat64()*8
	oz := -extentZ - 20 - 120*r.Float64()
	ox, oy, oz = round3(ox), round3(oy), round3(oz)
	if mirrored {
		st.Direction = [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}
		ox, oy = ox+fov-sxy, oy+fov-sxy // the same patch of world, walked backwards
	}
	st.Origin = [3]float64{ox, oy, oz}
	fx, fy := ox+st.Direction[0]*(fov-sxy)/2, oy+st.Direction[4]*(fov-sxy)/2
	pads := o.Padding
	if len(pads) == 0 {
		pads = []int16{-2048, -2000, -3024}
	}
	a := newAnatomy(r, fx, fy, fov, oz, oz+sz*float64(nz-1), pads, o.Hard, scanRand(o.Seed, i, 7))
	if o.SmallFOV {
		a.shrinkFOV()
	}
	st.Pad = a.pad
	placeNodules(r, a, o.Small, st)
	for _, l := range a.lungs {
		st.Lungs = append(st.Lungs, LungTruth{Label: l.label, CX: l.cx, CY: l.cy, RX: l.rx, RY: l.ry, Z0: l.z0, Z1: l.z1})
	}
	st.fillVoxels()
	hu, mask, err := rasterize(ctx, o.Seed, i, st, a, max(1, o.Workers))
	if err != nil {
		return nil, nil, nil, err
	}
	for _, m := range mask {
		if m == 3 || m == 4 {
			st.LungVoxels++
		}
	}
	return st, hu, mask, nil
}

// writeScan draws and writes scan i with its mask and returns its truth.
func writeScan(ctx context.Context, dir string, o Options, i int, variant string) (*ScanTruth, error) {
	st, hu, mask, err := drawScan(ctx, o, i, variant)
	if err != nil {
		return nil, err
	}
	uid, mirrored := st.UID, st.Mirrored
	sub := filepath.Join(dir, fmt.Sprintf("subset%d", st.Subset))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return nil, err
	}
	h := &metaimage.Header{DimSize: st.Size, Spacing: st.Spacing, Origin: st.Origin, Direction: st.Direction}
	orient := "RAI"
	if mirrored {
		orient = "LPI"
	}
	wo := metaimage.WriteOptions{Anatomical: orient}
	ext := ".mhd"
	switch variant {
	case VariantMSB:
		wo.MSB = true
	case VariantZraw:
		wo.Compress = true
	case VariantHeaderSize:
		wo.HeaderSize = 512
	case VariantLocal:
		wo.Local, ext = true, ".mha"
	}
	st.Path = filepath.Join(fmt.Sprintf("subset%d", st.Subset), uid+ext)
	path := filepath.Join(dir, st.Path)
	if err := metaimage.WriteImage(path, h, hu, wo); err != nil {
		return nil, err
	}
	if err := breakScan(path, variant); err != nil {
		return nil, err
	}
	if IsBroken(variant) {
		st.Nodules = nil
		return st, nil
	}
	st.MaskPath = filepath.Join("seg-lungs-LUNA16", uid+".mhd")
	err = metaimage.WriteImage(filepath.Join(dir, st.MaskPath), h, mask, metaimage.WriteOptions{Compress: true, Anatomical: orient})
	return st, err
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// breakScan damages a written scan the way a broken variant asks.
func breakScan(path, variant string) error {
	switch variant {
	case BrokenTruncated:
		raw := strings.TrimSuffix(path, ".mhd") + ".raw"
		st, err := os.Stat(raw)
		if err != nil {
			return err
		}
		return os.Truncate(raw, st.Size()/3)
	case BrokenNoDimSize, BrokenType:
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case variant == BrokenNoDimSize && strings.HasPrefix(line, "DimSize"):
				continue
			case variant == BrokenType && strings.HasPrefix(line, "ElementType"):
				line = "ElementType = MET_FLOAT_MATRIX"
			}
			out = append(out, line)
		}
		return os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644)
	}
	return nil
}

// placeNodules puts 0–4 nodules into the lungs, some touching the chest
// wall, and records them with a few sub-3 mm findings for the excluded list.
func placeNodules(r *rand.Rand, a *anatomy, small bool, st *ScanTruth) {
	n := 0
	if r.IntN(10) >= 3 {
		n = 1 + r.IntN(4)
	}
	maxD := 30.0
	if small {
		maxD = 12
	}
	for k := 0; k < n; k++ {
		d := 3 + (maxD-3)*math.Pow(r.Float64(), 2.5)
		li := r.IntN(2)
		l := a.lungs[li]
		pleural := r.IntN(3) == 0
		var c vec
		ok := false
		for try := 0; try < 200 && !ok; try++ {
			z := l.z0 + (l.z1-l.z0)*(0.2+0.6*r.Float64())
			s := l.scaleAt(z)
			th := r.Float64() * 2 * math.Pi
			if pleural {
				// On the lateral wall, sunk in by 40 % of the radius so it
				// both touches the wall and bulges into the lung.
				th = math.Pi*(0.5-0.6*r.Float64()) + map[bool]float64{true: math.Pi, false: 0}[l.cx < a.bx]
				ex, ey := math.Cos(th)*l.rx*s, math.Sin(th)*l.ry*s
				rr := math.Hypot(ex, ey)
				c = vec{l.cx + ex*(1-0.4*d/2/rr), l.cy + ey*(1-0.4*d/2/rr), z}
				ok = true
				break
			}
			rad := math.Sqrt(r.Float64()) * 0.75
			c = vec{l.cx + math.Cos(th)*l.rx*s*rad, l.cy + math.Sin(th)*l.ry*s*rad, z}
			ok = insideBy(l, c, d/2+2)
		}
		if !ok {
			continue
		}
		a.nodules = append(a.nodules, nodule{c: c, diameter: d, hu: 20 + 40*r.Float64(), pleural: pleural, lung: li})
		st.Nodules = append(st.Nodules, NoduleTruth{World: c, Diameter: round3(d), Pleural: pleural, Label: l.label})
	}
	// Small findings for annotations_excluded.csv: tiny nodules drawn,
	// "irrelevant findings" (diameter −1) not drawn.
	for k := 0; k < r.IntN(5); k++ {
		l := a.lungs[r.IntN(2)]
		z := l.z0 + (l.z1-l.z0)*(0.2+0.6*r.Float64())
		th, rad := r.Float64()*2*math.Pi, math.Sqrt(r.Float64())*0.7*l.scaleAt(z)
		c := vec{l.cx + math.Cos(th)*l.rx*rad, l.cy + math.Sin(th)*l.ry*rad, z}
		d := -1.0
		if r.IntN(2) == 0 {
			d = round3(1.5 + 1.4*r.Float64())
			a.nodules = append(a.nodules, nodule{c: c, diameter: d, hu: 0, lung: -1})
		}
		st.Excluded = append(st.Excluded, NoduleTruth{World: c, Diameter: d})
	}
	// Candidates: class 1 at each nodule, class 0 on vessels, in the lungs
	// and elsewhere in the body.
	for _, nd := range st.Nodules {
		for range 1 + r.IntN(2) {
			j := vec{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}.scale(nd.Diameter / 8)
			st.Candidates = append(st.Candidates, Candidate{World: nd.World.add(j), Class: 1})
		}
	}
	for range 12 + r.IntN(12) {
		v := a.vessels[r.IntN(len(a.vessels))]
		st.Candidates = append(st.Candidates, Candidate{World: v.a.add(v.b.sub(v.a).scale(r.Float64())), Class: 0})
	}
	for range 6 + r.IntN(6) {
		l := a.lungs[r.IntN(2)]
		z := l.z0 + (l.z1-l.z0)*r.Float64()
		th, rad := r.Float64()*2*math.Pi, math.Sqrt(r.Float64())*l.scaleAt(z)
		st.Candidates = append(st.Candidates, Candidate{World: vec{l.cx + math.Cos(th)*l.rx*rad, l.cy + math.Sin(th)*l.ry*rad, z}, Class: 0})
	}
	for range 3 {
		th := r.Float64() * 2 * math.Pi
		st.Candidates = append(st.Candidates, Candidate{World: vec{a.bx + math.Cos(th)*a.bax*0.9, a.by + math.Sin(th)*a.bay*0.9,
			a.lungs[0].z0 + (a.lungs[0].z1-a.lungs[0].z0)*r.Float64()}, Class: 0})
	}
}

// insideBy reports whether c lies in lung l at least margin mm from its
// wall (checked on a few points around c).
func insideBy(l lung, c vec, margin float64) bool {
	for _, d := range []vec{{0, 0, 0}, {margin, 0, 0}, {-margin, 0, 0}, {0, margin, 0}, {0, -margin, 0}, {0, 0, margin}, {0, 0, -margin}} {
		p := c.add(d)
		if !l.inside(p[0], p[1], p[2]) {
			return false
		}
	}
	return true
}

// rasterize draws the phantom onto the scan's voxel grid: a value with
// noise and a seg-lungs label per voxel.
func rasterize(ctx context.Context, seed uint64, i int, st *ScanTruth, a *anatomy, workers int) ([]int16, []uint8, error) {
	nx, ny, nz := st.Size[0], st.Size[1], st.Size[2]
	hu := make([]int16, nx*ny*nz)
	mask := make([]uint8, nx*ny*nz)
	world := func(ix, iy, iz int) vec {
		return vec{st.Origin[0] + st.Direction[0]*st.Spacing[0]*float64(ix),
			st.Origin[1] + st.Direction[4]*st.Spacing[1]*float64(iy),
			st.Origin[2] + st.Spacing[2]*float64(iz)}
	}
	// Each slice has its own noise stream, so slices are drawn side by
	// side with the same result.
	err := workpool.Slabs(ctx, nz, workers, func(z0, z1 int) error {
		sigma := make([]float32, nx) // per-row scratch
		for iz := z0; iz < z1; iz++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := scanRand(seed, i, 1000+uint64(iz))
			for iy := range ny {
				row := hu[(iz*ny+iy)*nx:][:nx]
				mrow := mask[(iz*ny+iy)*nx:][:nx]
				p := world(0, iy, iz)
				for ix := range nx {
					x := p[0] + st.Direction[0]*st.Spacing[0]*float64(ix)
					v, s, l := a.base(x, p[1], p[2])
					row[ix], mrow[ix], sigma[ix] = int16(v), l, float32(s)
				}
				for ix := range nx {
					if sigma[ix] > 0 {
						row[ix] = clamp16(float64(row[ix]) + r.NormFloat64()*float64(sigma[ix]))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// stamp calls fn for every voxel within radius of a tube.
	stamp := func(t tube, pad float64, fn func(idx int, d2 float64, p vec)) {
		lo, hi := t.a, t.b
		for k := range 3 {
			lo[k], hi[k] = math.Min(t.a[k], t.b[k])-t.radius-pad, math.Max(t.a[k], t.b[k])+t.radius+pad
		}
		var i0, i1 [3]int
		for k := range 3 {
			dk := st.Direction[4*k] * st.Spacing[k]
			a, b := (lo[k]-st.Origin[k])/dk, (hi[k]-st.Origin[k])/dk
			if a > b {
				a, b = b, a
			}
			i0[k], i1[k] = max(0, int(math.Floor(a))), min(st.Size[k]-1, int(math.Ceil(b)))
		}
		rr := (t.radius + pad) * (t.radius + pad)
		for iz := i0[2]; iz <= i1[2]; iz++ {
			for iy := i0[1]; iy <= i1[1]; iy++ {
				for ix := i0[0]; ix <= i1[0]; ix++ {
					p := world(ix, iy, iz)
					if d2 := t.dist2(p); d2 <= rr {
						fn((iz*ny+iy)*nx+ix, d2, p)
					}
				}
			}
		}
	}
	nr := scanRand(seed, i, 7)
	for _, v := range a.vessels {
		stamp(v, 0, func(idx int, _ float64, p vec) {
			if mask[idx] == 3 || mask[idx] == 4 {
				hu[idx] = clamp16(40 + nr.NormFloat64()*15)
			}
		})
	}
	for _, t := range a.airways {
		stamp(t, 1.5, func(idx int, d2 float64, p vec) {
			if a.outsideFOV(p[0], p[1]) {
				return
			}
			if d2 <= t.radius*t.radius {
				hu[idx], mask[idx] = clamp16(-1000+nr.NormFloat64()*15), 5
			} else if mask[idx] != 5 {
				hu[idx] = clamp16(40 + nr.NormFloat64()*15) // the airway wall
			}
		})
	}
	for _, n := range a.nodules {
		r := n.diameter / 2
		stamp(tube{n.c, n.c, r}, 0.5, func(idx int, d2 float64, p vec) {
			if a.outsideFOV(p[0], p[1]) {
				return // a nodule the field of view cuts: the scan holds padding there
			}
			d := math.Sqrt(d2)
			w := math.Min(1, (r+0.5-d)/1.0) // a soft 1 mm edge
			hu[idx] = clamp16(float64(hu[idx])*(1-w) + (n.hu+nr.NormFloat64()*20)*w)
			if n.lung >= 0 && d <= r {
				mask[idx] = a.lungs[n.lung].label
			}
		})
	}
	return hu, mask, nil
}

func clamp16(v float64) int16 {
	return int16(math.Max(-32768, math.Min(32767, math.Round(v))))
}
