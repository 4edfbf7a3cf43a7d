package synth

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"voxmine/ingest/metaimage"
	"voxmine/internal/workpool"
)

// PlaceOptions configure Place.
type PlaceOptions struct {
	Seed uint64
	// Mirrored is how many series get LUNA16's x-y mirrored direction
	// (14 in the real dataset).
	Mirrored int
	// Margin in mm around the nodules' bounding box.
	Margin  float64
	Workers int
}

// Place writes, for every series of an annotations CSV (LUNA16's real one,
// say), a scan just large enough to hold that series' nodules — air with
// each nodule drawn as a +40 HU sphere — under the series' own uid, with
// spacings drawn from LUNA16's and some scans mirrored. It tests
// world → voxel conversion and per-series grouping at the real dataset's
// scale without its 111 GiB. The CSV is copied beside the scans.
func Place(ctx context.Context, dir, annotations string, o PlaceOptions) (*Truth, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("place: %s is not empty", dir)
	}
	if o.Margin <= 0 {
		o.Margin = 12
	}
	series, err := readAnnotations(annotations)
	if err != nil {
		return nil, err
	}
	uids := make([]string, 0, len(series))
	for uid := range series {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	pick := scanRand(o.Seed, -1, 3).Perm(len(uids))
	mirrored := map[string]bool{}
	for _, i := range pick[:min(o.Mirrored, len(uids))] {
		mirrored[uids[i]] = true
	}
	if err := os.MkdirAll(filepath.Join(dir, "subset0"), 0o755); err != nil {
		return nil, err
	}
	truth := &Truth{Seed: o.Seed, Scans: make([]ScanTruth, len(uids))}
	err = workpool.Run(ctx, len(uids), o.Workers, func(i int) error {
		st, err := placeScan(dir, uids[i], i, series[uids[i]], mirrored[uids[i]], o)
		truth.Scans[i] = st
		return err
	})
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(annotations)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "annotations.csv"), b, 0o644); err != nil {
		return nil, err
	}
	tb, _ := json.MarshalIndent(truth, "", " ")
	return truth, os.WriteFile(filepath.Join(dir, "truth.json"), tb, 0o644)
}

// readAnnotations groups an annotations CSV's nodules by series.
func readAnnotations(path string) (map[string][]NoduleTruth, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string][]NoduleTruth{}
	for i, r := range recs[1:] {
		if len(r) < 5 {
			return nil, fmt.Errorf("%s:%d: %d fields", path, i+2, len(r))
		}
		var v [4]float64
		for k := range 4 {
			if v[k], err = strconv.ParseFloat(r[k+1], 64); err != nil {
				return nil, fmt.Errorf("%s:%d: %q is not a number", path, i+2, r[k+1])
			}
		}
		out[r[0]] = append(out[r[0]], NoduleTruth{World: vec{v[0], v[1], v[2]}, Diameter: v[3]})
	}
	return out, nil
}

func placeScan(dir, uid string, i int, nodules []NoduleTruth, mirrored bool, o PlaceOptions) (ScanTruth, error) {
	r := scanRand(o.Seed, i, 4)
	sxy := math.Round((0.6+0.3*r.Float64())*1e6) / 1e6
	sz := drawSliceSpacing(r)
	lo, hi := vec{math.Inf(1), math.Inf(1), math.Inf(1)}, vec{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for _, n := range nodules {
		for k := range 3 {
			lo[k] = math.Min(lo[k], n.World[k]-n.Diameter/2-o.Margin)
			hi[k] = math.Max(hi[k], n.World[k]+n.Diameter/2+o.Margin)
		}
	}
	st := ScanTruth{UID: uid, Index: i, Spacing: [3]float64{sxy, sxy, sz}, Mirrored: mirrored,
		Direction: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, Pad: -1000, Nodules: nodules}
	for k := range 3 {
		st.Size[k] = int(math.Ceil((hi[k]-lo[k])/st.Spacing[k])) + 1
	}
	st.Origin = [3]float64{round3(lo[0]), round3(lo[1]), round3(lo[2])}
	if mirrored {
		st.Direction = [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}
		st.Origin[0], st.Origin[1] = round3(hi[0]), round3(hi[1])
	}
	nx, ny, nz := st.Size[0], st.Size[1], st.Size[2]
	hu := make([]int16, nx*ny*nz)
	for k := range hu {
		hu[k] = -1000
	}
	for _, n := range nodules {
		rad := n.Diameter / 2
		var i0, i1 [3]int
		for k := range 3 {
			d := st.Direction[4*k] * st.Spacing[k]
			a, b := (n.World[k]-rad-st.Origin[k])/d, (n.World[k]+rad-st.Origin[k])/d
			if a > b {
				a, b = b, a
			}
			i0[k], i1[k] = max(0, int(math.Floor(a))), min(st.Size[k]-1, int(math.Ceil(b)))
		}
		for z := i0[2]; z <= i1[2]; z++ {
			for y := i0[1]; y <= i1[1]; y++ {
				for x := i0[0]; x <= i1[0]; x++ {
					p := vec{st.Origin[0] + st.Direction[0]*sxy*float64(x), st.Origin[1] + st.Direction[4]*sxy*float64(y), st.Origin[2] + sz*float64(z)}
					// Within the radius plus half a voxel diagonal, so that even
					// a 3 mm nodule covers its 1 mm centre voxel after resampling.
					if p.sub(n.World).norm() <= rad+sxy {
						hu[(z*ny+y)*nx+x] = 40
					}
				}
			}
		}
	}
	st.fillVoxels()
	st.Path = filepath.Join("subset0", uid+".mhd")
	h := &metaimage.Header{DimSize: st.Size, Spacing: st.Spacing, Origin: st.Origin, Direction: st.Direction}
	return st, metaimage.WriteImage(filepath.Join(dir, st.Path), h, hu, metaimage.WriteOptions{})
}
