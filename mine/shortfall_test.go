package mine_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestShortfallsAreSaid: a run that gives less than asked says so, per
// scan and in all, in the Result and run.json, with the reason: hard
// negatives beyond a scan's nodule-like spots (each spot at most once, no
// centre twice), and a dataset's hard negatives from a store without
// candidates.
func TestShortfallsAreSaid(t *testing.T) {
	_, s := setup(t)
	o := mine.DefaultOutput(t.TempDir())
	o.Size = 16
	p := mine.DefaultNegatives()
	p.PerScan, p.Hardness, p.Seed = 400, "hard", 3
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shortfalls) == 0 || res.Asked != 400*len(storetest.Scans(t, s)) || res.Patches >= res.Asked {
		t.Fatalf("%d of %d asked, shortfalls %+v", res.Patches, res.Asked, res.Shortfalls)
	}
	for _, sh := range res.Shortfalls {
		if sh.Got >= sh.Asked || !strings.Contains(sh.Reason, "spots are used up") {
			t.Errorf("shortfall %+v: want fewer than asked, spots used up", sh)
		}
	}
	centres := map[string]bool{}
	for _, r := range readIndex(t, res.Index) {
		c := r["seriesuid"] + " " + r["center_z"] + "," + r["center_y"] + "," + r["center_x"]
		if centres[c] {
			t.Errorf("centre %s drawn twice", c)
		}
		centres[c] = true
		if n, err := strconv.Atoi(r["findings_in_cube"]); err != nil || n < 0 {
			t.Errorf("findings_in_cube %q", r["findings_in_cube"])
		}
	}
	var doc struct {
		Counts     map[string]int   `json:"counts"`
		Shortfalls []mine.Shortfall `json:"shortfalls"`
	}
	b, _ := os.ReadFile(res.RunJSON)
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Shortfalls) != len(res.Shortfalls) || doc.Counts["asked"] != res.Asked {
		t.Errorf("run.json: %v, %d shortfalls, asked %d", err, len(doc.Shortfalls), doc.Counts["asked"])
	}
}

// TestFindingsInCube: with the notebook's rule (15 mm from a nodule's
// centre) a 64 mm cube may hold a nodule; findings_in_cube says so, and
// --clear-cube keeps every cube clear of findings.
func TestFindingsInCube(t *testing.T) {
	_, s := setup(t)
	count := func(clear bool) (touching, total int) {
		o := mine.DefaultOutput(t.TempDir())
		o.Size = 64
		p := mine.DefaultNegatives()
		p.PerScan, p.Seed, p.ClearCube, p.MinDist = 40, 8, clear, 15
		res, err := mine.Negatives(context.Background(), s, o, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readIndex(t, res.Index) {
			total++
			if r["findings_in_cube"] != "0" {
				touching++
			}
		}
		return touching, total
	}
	if n, total := count(false); n == 0 {
		t.Errorf("none of %d cubes of 64 mm at 15 mm from the nodules' centres holds one: the column counts nothing", total)
	}
	if n, total := count(true); n != 0 || total == 0 {
		t.Errorf("--clear-cube: %d of %d cubes touch a finding", n, total)
	}
}

// TestHUTestKeepsOutOfAir: scans without lung labels, mined under --lung
// hu (the notebook's test) or --lung auto: no centre lies in the air
// around the patient (the notebook's test took 8 of 8 there), and auto
// says that it fell back.
func TestHUTestKeepsOutOfAir(t *testing.T) {
	f, _ := setup(t)
	dir := t.TempDir()
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{f.src}, StoreDir: dir, Workers: 2, PadHU: -1000,
		Lung: ingest.LungSourceNone, Annotations: filepath.Join(f.src, "annotations.csv")}); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []mine.LungMode{mine.LungHU, mine.LungAuto} {
		o := mine.DefaultOutput(t.TempDir())
		o.Size = 16
		p := mine.DefaultNegatives()
		p.PerScan, p.Seed, p.Lung = 20, 5, mode
		res, err := mine.Negatives(context.Background(), s, o, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range readIndex(t, res.Index) {
			v, err := s.OpenVolume(r["seriesuid"])
			if err != nil {
				t.Fatal(err)
			}
			c := [3]int{atoi(t, r["center_z"]), atoi(t, r["center_y"]), atoi(t, r["center_x"])}
			m, err := query.WindowedMean(v, c, 7, -1000, 400, v.Info().PadHU)
			v.Close()
			if err != nil || m*1400-1000 < -975 {
				t.Errorf("%s: centre %v in air (7³ mean %.0f HU)", mode, c, m*1400-1000)
			}
		}
		if mode == mine.LungAuto && !strings.Contains(strings.Join(res.Warnings, " "), "no lung labels") {
			t.Errorf("--lung auto on scans without labels: warnings %v", res.Warnings)
		}
	}
}
