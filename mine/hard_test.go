package mine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"voxmine/mine"
	"voxmine/store"
)

// boxMean is the mean HU of the 5³ box around centre c.
func boxMean(t *testing.T, s *store.Store, uid string, c [3]int) float64 {
	t.Helper()
	v, err := s.OpenVolume(uid)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	buf := make([]int16, 125)
	if err := v.ReadHU(store.Box{Z: c[0] - 2, Y: c[1] - 2, X: c[2] - 2, D: 5, H: 5, W: 5}, -1000, buf); err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, x := range buf {
		sum += float64(x)
	}
	return sum / 125
}

// hardStats mines with the given hardness and returns, per kind, the 5³
// box means around the centres, checking the distance rule on the way.
func hardStats(t *testing.T, s *store.Store, hardness string, perScan int, workers int) (map[string][]float64, string) {
	t.Helper()
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.Workers = 24, workers
	p := mine.DefaultNegatives()
	p.PerScan, p.Seed, p.Hardness = perScan, 5, hardness
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, r := range readIndex(t, res.Index) {
		if d, _ := strconv.ParseFloat(r["nearest_finding_mm"], 64); r["nearest_finding_mm"] != "" && d < p.MinDist {
			t.Errorf("%s (%s): %.1f mm from a finding", r["patch_file"], r["drawn"], d)
		}
		out[r["drawn"]] = append(out[r["drawn"]], boxMean(t, s, r["seriesuid"], centre(t, r)))
	}
	return out, o.Dir
}

func share(v []float64, above float64) float64 {
	n := 0
	for _, x := range v {
		if x > above {
			n++
		}
	}
	return float64(n) / float64(max(len(v), 1))
}

// TestHardNegativesOnPhantoms: hard centres lie on the phantom's vessels
// and branch points (tissue, not parenchyma, in the 5³ box around them) far
// more often than uniform ones, keep the distance rule, and come out the
// same with 1 and 3 workers.
func TestHardNegativesOnPhantoms(t *testing.T) {
	_, s := setup(t)
	got, dirA := hardStats(t, s, "mix:0.5", 12, 1)
	hard, uni := share(got["hard"], -600), share(got["uniform"], -600)
	t.Logf("on tissue (5³ mean above −600 HU): hard %.0f %% of %d, uniform %.0f %% of %d", 100*hard, len(got["hard"]), 100*uni, len(got["uniform"]))
	if len(got["hard"]) == 0 || hard < 0.8 || hard <= uni {
		t.Errorf("hard centres on tissue %.2f, uniform %.2f: want ≥ 0.8 and above uniform", hard, uni)
	}
	_, dirB := hardStats(t, s, "mix:0.5", 12, 3)
	for _, name := range []string{"bg_index.csv"} {
		a, _ := os.ReadFile(filepath.Join(dirA, name))
		b, _ := os.ReadFile(filepath.Join(dirB, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between 1 and 3 workers", name)
		}
	}
}

// TestRealLIDCHardNegatives: on the real chest CT, the 5³ box around hard
// centres is far brighter than around uniform ones (vessels, not
// parenchyma), and at least 80 % of hard centres sit on structure (a 5³
// mean above −500 HU; 78 % before spots moved to their brightest voxel).
func TestRealLIDCHardNegatives(t *testing.T) {
	s := openReal(t)
	if hard, _ := hardStats(t, s, "hard", 100, 3); share(hard["hard"], -500) < 0.8 {
		t.Errorf("%.0f %% of %d hard centres on structure (5³ mean above −500 HU), want at least 80 %%", 100*share(hard["hard"], -500), len(hard["hard"]))
	} else {
		t.Logf("--hardness hard: %.0f %% of %d centres on structure", 100*share(hard["hard"], -500), len(hard["hard"]))
	}
	got, _ := hardStats(t, s, "mix:0.5", 40, 2)
	mean := func(v []float64) float64 {
		sum := 0.0
		for _, x := range v {
			sum += x
		}
		return sum / float64(max(len(v), 1))
	}
	t.Logf("5³ mean HU around centres: hard %.0f (n=%d, on tissue %.0f %%), uniform %.0f (n=%d, on tissue %.0f %%)",
		mean(got["hard"]), len(got["hard"]), 100*share(got["hard"], -600), mean(got["uniform"]), len(got["uniform"]), 100*share(got["uniform"], -600))
	if len(got["hard"]) == 0 || mean(got["hard"]) < mean(got["uniform"])+200 {
		t.Errorf("hard centres' boxes average %.0f HU, uniform ones %.0f: want well above", mean(got["hard"]), mean(got["uniform"]))
	}
}
