package mine_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
	"voxmine/store/storetest"
)

// fixture is a small synthetic dataset ingested once per test binary.
type fixture struct {
	src, store string
	truth      *synth.Truth
}

var fix = sync.OnceValues(func() (*fixture, error) {
	dir, err := testenv.TempDir("voxmine-mine-")
	if err != nil {
		return nil, err
	}
	f := &fixture{src: filepath.Join(dir, "src"), store: filepath.Join(dir, "store")}
	if f.truth, err = synth.Generate(context.Background(), f.src, synth.Options{N: 5, Seed: 11, Small: true, Workers: 2}); err != nil {
		return nil, err
	}
	_, err = ingest.Run(context.Background(), ingest.Options{
		Sources: []string{f.src}, StoreDir: f.store, MaskDir: filepath.Join(f.src, "seg-lungs-LUNA16"),
		Annotations: filepath.Join(f.src, "annotations.csv"), Excluded: filepath.Join(f.src, "annotations_excluded.csv"),
		Candidates: filepath.Join(f.src, "candidates.csv"), Workers: 2, PadHU: -1000,
	})
	return f, err
})

func setup(t *testing.T) (*fixture, *store.Store) {
	t.Helper()
	f, err := fix()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(f.store)
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func readIndex(t *testing.T, path string) []map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func centre(t *testing.T, r map[string]string) [3]int {
	var c [3]int
	for i, k := range []string{"center_z", "center_y", "center_x"} {
		v, err := strconv.Atoi(r[k])
		if err != nil {
			t.Fatalf("%s = %q", k, r[k])
		}
		c[i] = v
	}
	return c
}

func TestNegativesObeyTheRules(t *testing.T) {
	_, s := setup(t)
	findings, _ := s.FindingsWithCandidates()
	tests := []struct {
		name string
		p    mine.NegativeParams
	}{
		{"defaults", mine.DefaultNegatives()},
		{"surface", func() mine.NegativeParams { p := mine.DefaultNegatives(); p.Surface = true; p.MinDist = 8; return p }()},
		{"clear cube", func() mine.NegativeParams { p := mine.DefaultNegatives(); p.ClearCube = true; return p }()},
		{"candidates too", func() mine.NegativeParams {
			p := mine.DefaultNegatives()
			p.Avoid = []string{"annotations", "excluded", "candidates"}
			return p
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := mine.DefaultOutput(t.TempDir())
			o.Size, o.Workers = 24, 2
			tc.p.PerScan = 6
			res, err := mine.Negatives(context.Background(), s, o, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Patches == 0 {
				t.Fatal("no patches")
			}
			for _, r := range readIndex(t, res.Index) {
				info, _ := storetest.Lookup(t, s, r["seriesuid"])
				c := centre(t, r)
				v, _ := s.OpenVolume(info.UID)
				l, _ := query.LabelAt(v, c)
				v.Close()
				if !store.IsLung(l) {
					t.Errorf("%s: centre %v has label %d, not lung", r["patch_file"], c, l)
				}
				if !query.CubeInside(info.Grid.Shape, c, o.Size) {
					t.Errorf("%s: cube sticks out of the volume", r["patch_file"])
				}
				w := query.VoxelWorld(info.Grid, c)
				var avoid []query.Sphere
				if sf := findings.Series[info.UID]; sf != nil {
					for _, a := range tc.p.Avoid {
						switch a {
						case "annotations":
							for _, x := range sf.Annotations {
								avoid = append(avoid, query.SphereOf(x))
							}
						case "excluded":
							for _, x := range sf.Excluded {
								avoid = append(avoid, query.SphereOf(x))
							}
						case "candidates":
							for _, x := range sf.Candidates {
								if x.Class == 1 {
									avoid = append(avoid, query.SphereOf(x))
								}
							}
						}
					}
				}
				lo, hi := query.CubeWorldBounds(info.Grid, c, o.Size)
				for _, sp := range avoid {
					d := math.Sqrt(sq(w[0]-sp.Center[0]) + sq(w[1]-sp.Center[1]) + sq(w[2]-sp.Center[2]))
					if tc.p.Surface {
						d -= sp.Radius
					}
					if d < tc.p.MinDist {
						t.Errorf("%s: %.1f mm from a finding, min %.1f", r["patch_file"], d, tc.p.MinDist)
					}
					if tc.p.ClearCube && query.CubeTouches(lo, hi, sp) {
						t.Errorf("%s: a finding reaches into the cube", r["patch_file"])
					}
				}
			}
		})
	}
}

func sq(x float64) float64 { return x * x }

// TestDeterminism: the same seed gives the same bytes with 1 or 3 workers;
// another seed gives other centres.
func TestDeterminism(t *testing.T) {
	_, s := setup(t)
	runWith := func(workers int, seed uint64) string {
		o := mine.DefaultOutput(t.TempDir())
		o.Size, o.Workers, o.Pack = 16, workers, true
		p := mine.DefaultNegatives()
		p.PerScan, p.Seed = 5, seed
		if _, err := mine.Negatives(context.Background(), s, o, p); err != nil {
			t.Fatal(err)
		}
		return o.Dir
	}
	a, b, c := runWith(1, 9), runWith(3, 9), runWith(2, 10)
	entries, _ := os.ReadDir(a)
	for _, e := range entries {
		if e.Name() == "run.json" {
			continue // holds the run UUID and timings
		}
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 and 3 workers", e.Name())
		}
	}
	ia, _ := os.ReadFile(filepath.Join(a, "bg_index.csv"))
	ic, _ := os.ReadFile(filepath.Join(c, "bg_index.csv"))
	if bytes.Equal(ia, ic) {
		t.Error("seed 10 gave the same index as seed 9")
	}
}

// TestNumpyReadsOutputs has NumPy load every patch, the packed array and
// the index, compare them with `mine roi`, and encode the window itself.
func TestNumpyReadsOutputs(t *testing.T) {
	py := "/usr/bin/python3"
	testenv.Require(t, py+" has no numpy", exec.Command(py, "-c", "import numpy").Run())
	_, s := setup(t)
	for _, dt := range []mine.DType{mine.F16, mine.F32, mine.I16} {
		t.Run(string(dt), func(t *testing.T) {
			o := mine.DefaultOutput(t.TempDir())
			o.Size, o.Pack, o.DType, o.Workers = 20, true, dt, 2
			p := mine.DefaultNegatives()
			p.PerScan = 3
			res, err := mine.Negatives(context.Background(), s, o, p)
			if err != nil {
				t.Fatal(err)
			}
			roi := t.TempDir()
			for i, r := range readIndex(t, res.Index) {
				if err := mine.WriteROI(s, r["seriesuid"], centre(t, r), o.Size, dt, -1000, 400, filepath.Join(roi, strconv.Itoa(i)+".npy")); err != nil {
					t.Fatal(err)
				}
			}
			out, err := exec.Command(py, filepath.Join("testdata", "check_npy.py"), o.Dir, "bg_index.csv", roi, string(dt), strconv.Itoa(o.Size)).CombinedOutput()
			if err != nil {
				t.Fatalf("numpy: %v\n%s", err, out)
			}
			var rep struct {
				Rows     int      `json:"rows"`
				Problems []string `json:"problems"`
				F16      []uint16 `json:"f16_table"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if rep.Rows != res.Patches || len(rep.Problems) > 0 {
				t.Errorf("numpy read %d rows of %d: %v", rep.Rows, res.Patches, rep.Problems)
			}
			for i, want := range rep.F16 {
				hu := float64(i - 1100)
				if got := mine.Float16((math.Min(math.Max(hu, -1000), 400) + 1000) / 1400); got != want {
					t.Fatalf("HU %v: voxmine float16 %#04x, numpy %#04x", hu, got, want)
				}
			}
		})
	}
}

func TestPositivesHitTheNodules(t *testing.T) {
	f, s := setup(t)
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.DType = 32, mine.I16
	res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{Copies: 2, Jitter: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, res.Index)
	want := 0
	for _, sc := range f.truth.Scans {
		want += 3 * len(sc.Nodules)
	}
	if len(rows) != want || want == 0 {
		t.Fatalf("%d positives, want %d", len(rows), want)
	}
	byUID := map[string]*synth.ScanTruth{}
	for i := range f.truth.Scans {
		byUID[f.truth.Scans[i].UID] = &f.truth.Scans[i]
	}
	for _, r := range rows {
		sc := byUID[r["seriesuid"]]
		n, _ := strconv.Atoi(r["nodule"])
		truth := sc.VoxelZYX(sc.Nodules[n].World, 1)
		c := centre(t, r)
		var off [3]int
		for i, k := range []string{"offset_z", "offset_y", "offset_x"} {
			off[i], _ = strconv.Atoi(r[k])
		}
		if r["copy"] == "0" && c != truth {
			t.Errorf("%s: centre %v, the nodule is at %v (mirrored %v)", r["patch_file"], c, truth, sc.Mirrored)
		}
		if d := math.Sqrt(float64(off[0]*off[0] + off[1]*off[1] + off[2]*off[2])); d > 3+math.Sqrt(3) {
			t.Errorf("%s: jitter %v beyond 3 mm", r["patch_file"], off)
		}
		if [3]int{c[0] - off[0], c[1] - off[1], c[2] - off[2]} != truth {
			t.Errorf("%s: centre − offset is not the nodule", r["patch_file"])
		}
	}
}

func TestEdgeNoduleIsPaddedNotShifted(t *testing.T) {
	_, s := setup(t)
	info := storetest.Scans(t, s)[0]
	// A nodule 3 voxels from the volume's corner.
	c := [3]int{3, 3, 3}
	path := filepath.Join(t.TempDir(), "edge.npy")
	if err := mine.WriteROI(s, info.UID, c, 16, mine.I16, -1000, 400, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	data := b[len(mine.NPYHeader(mine.I16, 16, 16, 16)):]
	at := func(z, y, x int) int16 {
		i := 2 * ((z*16+y)*16 + x)
		return int16(uint16(data[i]) | uint16(data[i+1])<<8)
	}
	if at(0, 0, 0) != info.PadHU || at(4, 4, 4) != info.PadHU {
		t.Error("the part outside the volume is not padding")
	}
	v, _ := s.OpenVolume(info.UID)
	defer v.Close()
	want := make([]int16, 1)
	v.ReadHU(store.Box{Z: 3, Y: 3, X: 3, D: 1, H: 1, W: 1}, 0, want)
	if at(8, 8, 8) != want[0] {
		t.Errorf("centre of the cube is %d, the voxel is %d: content shifted", at(8, 8, 8), want[0])
	}
}

func TestCandidatesAndDataset(t *testing.T) {
	_, s := setup(t)
	findings, _ := s.FindingsWithCandidates()
	o := mine.DefaultOutput(t.TempDir())
	o.Size = 16
	res, err := mine.Candidates(context.Background(), s, o, mine.CandidateParams{Class: 0, PerScan: 4, MinDistToNodule: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readIndex(t, res.Index) {
		row, _ := strconv.Atoi(r["candidate"])
		cand := findings.Series[r["seriesuid"]].Candidates[row]
		if cand.Class != 0 {
			t.Errorf("%s: class %d", r["patch_file"], cand.Class)
		}
		if d, _ := strconv.ParseFloat(r["nearest_nodule_mm"], 64); r["nearest_nodule_mm"] != "" && d < 10 {
			t.Errorf("%s: %v mm from a nodule", r["patch_file"], d)
		}
	}
	o = mine.DefaultOutput(t.TempDir())
	o.Size = 16
	res, err = mine.Dataset(context.Background(), s, o, mine.DatasetParams{NegativesPerPositive: 2, HardFraction: 0.5, Seed: 3,
		Negatives: mine.DefaultNegatives()})
	if err != nil {
		t.Fatal(err)
	}
	// The positives' rows carry pos_index.csv's columns, the same values
	// as mine positives gives with the same seed.
	o2 := mine.DefaultOutput(t.TempDir())
	o2.Size = 16
	pres, err := mine.Positives(context.Background(), s, o2, mine.PositiveParams{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	posRows := map[string]map[string]string{}
	for _, r := range readIndex(t, pres.Index) {
		posRows[r["patch_file"]] = r
	}
	kinds := map[string]int{}
	for _, r := range readIndex(t, res.Index) {
		kinds[r["kind"]]++
		if (r["kind"] == "positive") != (r["label"] == "1") {
			t.Errorf("%s: kind %s label %s", r["patch_file"], r["kind"], r["label"])
		}
		// Each kind fills its own part's columns and leaves the others empty.
		own := map[string]string{"positive": "diameter_mm", "negative": "min_dist_mm", "hard_negative": "candidate"}
		for k, col := range own {
			if (r[col] != "") != (k == r["kind"]) {
				t.Errorf("%s (%s): %s = %q", r["patch_file"], r["kind"], col, r[col])
			}
		}
		if r["kind"] == "positive" {
			want := posRows[r["patch_file"]]
			if want == nil {
				t.Errorf("%s: not among mine positives' patches", r["patch_file"])
				continue
			}
			for _, c := range mine.PositiveColumns {
				if r[c] != want[c] {
					t.Errorf("%s: %s = %q, pos_index.csv has %q", r["patch_file"], c, r[c], want[c])
				}
			}
		}
		if r["kind"] == "negative" && r["min_dist_mm"] != "15" {
			t.Errorf("%s: min_dist_mm %q, want the run's 15", r["patch_file"], r["min_dist_mm"])
		}
	}
	if kinds["positive"] == 0 || kinds["negative"]+kinds["hard_negative"] != 2*kinds["positive"] || kinds["hard_negative"] != kinds["positive"] {
		t.Errorf("kinds %v: want negatives = 2 × positives, half of them hard", kinds)
	}
}

func TestOutputDirRules(t *testing.T) {
	_, s := setup(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "something"), []byte("x"), 0o644)
	o := mine.DefaultOutput(dir)
	if _, err := mine.Negatives(context.Background(), s, o, mine.DefaultNegatives()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty dir: %v", err)
	}
	o.Overwrite = true
	if _, err := mine.Negatives(context.Background(), s, o, mine.DefaultNegatives()); err != nil {
		t.Errorf("overwrite: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "something")); err != nil {
		t.Error("overwrite removed a file that is not voxmine's")
	}
	for _, bad := range []func(*mine.Output, *mine.NegativeParams){
		func(o *mine.Output, p *mine.NegativeParams) { o.Size = 0 },
		func(o *mine.Output, p *mine.NegativeParams) { o.WindowLo, o.WindowHi = 400, -1000 },
		func(o *mine.Output, p *mine.NegativeParams) { p.MinDist = -1 },
		func(o *mine.Output, p *mine.NegativeParams) { p.PerScan = 0 },
		func(o *mine.Output, p *mine.NegativeParams) { p.Lung = "maybe" },
	} {
		o, p := mine.DefaultOutput(t.TempDir()), mine.DefaultNegatives()
		bad(&o, &p)
		if _, err := mine.Negatives(context.Background(), s, o, p); err == nil {
			t.Errorf("accepted %+v %+v", o, p)
		}
	}
}

func TestFloat16(t *testing.T) {
	tests := []struct {
		in   float64
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {0.5, 0x3800}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00},
		{math.Inf(1), 0x7c00}, {5.960464477539063e-08, 0x0001}, {6.103515625e-05, 0x0400},
		{1 + 1.0/2048, 0x3c00},         // a tie: to even
		{1 + 3.0/2048, 0x3c02},         // a tie: to even, upwards
		{1 + 1.0/2048 + 1e-12, 0x3c01}, // just above the tie
	}
	for _, tc := range tests {
		if got := mine.Float16(tc.in); got != tc.want {
			t.Errorf("Float16(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

func TestNPYHeader(t *testing.T) {
	h := mine.NPYHeader(mine.F16, 64, 64, 64)
	if len(h)%64 != 0 || h[len(h)-1] != '\n' || !bytes.Contains(h, []byte("'descr': '<f2', 'fortran_order': False, 'shape': (64, 64, 64), }")) {
		t.Errorf("header %q", h)
	}
}

// TestPositivesOfUnknownSize: an annotations table without diameters
// (LUNA25's) still gives a positive on every nodule, its diameter_mm −1,
// and its label column becomes the index's nodule_label.
func TestPositivesOfUnknownSize(t *testing.T) {
	f, _ := setup(t)
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dir, os.DirFS(f.store)); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	rows, n := "SeriesInstanceUID,CoordX,CoordY,CoordZ,label\n", 0
	for uid, sf := range fd.Series {
		for _, a := range sf.Annotations {
			rows += fmt.Sprintf("%s,%g,%g,%g,%d\n", uid, a.X, a.Y, a.Z, n%2)
			n++
		}
	}
	s.Close()
	csvPath := filepath.Join(t.TempDir(), "luna25.csv")
	os.WriteFile(csvPath, []byte(rows), 0o644)
	rep, err := ingest.LoadFindings(context.Background(), ingest.Options{StoreDir: dir, Annotations: csvPath})
	if err != nil || len(rep.CSVNotes) != 1 {
		t.Fatalf("load: %v, notes %v", err, rep.CSVNotes)
	}
	if s, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := mine.DefaultOutput(t.TempDir())
	o.Size = 16
	res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{})
	if err != nil {
		t.Fatal(err)
	}
	got := readIndex(t, res.Index)
	if len(got) != n || n == 0 {
		t.Fatalf("%d positives for %d nodules of unknown size", len(got), n)
	}
	labels := map[string]int{}
	for _, r := range got {
		if r["diameter_mm"] != "-1.000" {
			t.Errorf("diameter_mm %q, want -1.000", r["diameter_mm"])
		}
		labels[r["nodule_label"]]++
	}
	// The table's labels (alternating 0 and 1 here) come along.
	if labels["0"]+labels["1"] != n || (n > 1 && (labels["0"] == 0 || labels["1"] == 0)) {
		t.Errorf("nodule_label counts %v for %d nodules", labels, n)
	}
}
