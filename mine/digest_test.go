package mine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"voxmine/mine"
)

// TestOutputDigest pins the bytes of a fixed small run of every patch
// command: the index and every patch file, in index order. A change to
// sampling order, rules, windowing or file layout changes the digest and
// shows up in review; rewrite them (-update) only for a change meant to
// alter outputs, and say so in the commit.
//
// The digests are amd64's: on arm64 (and ppc64, s390x) Go fuses x*y + z
// into one rounding, so the synthetic scans and their resampling may
// differ in the last bit, and so the patches. Other architectures skip it.
func TestOutputDigest(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("digests pinned on amd64; %s may round fused multiply-adds differently", runtime.GOARCH)
	}
	_, s := setup(t)
	pinned := readDigests(t)
	got := map[string]string{}
	var mu sync.Mutex
	runs := map[string]func(o mine.Output) (*mine.Result, error){
		"negatives": func(o mine.Output) (*mine.Result, error) {
			p := mine.DefaultNegatives()
			p.PerScan, p.Seed, p.Surface = 4, 21, true
			return mine.Negatives(context.Background(), s, o, p)
		},
		"positives": func(o mine.Output) (*mine.Result, error) {
			return mine.Positives(context.Background(), s, o, mine.PositiveParams{Copies: 2, Jitter: 3, Seed: 4})
		},
		"candidates": func(o mine.Output) (*mine.Result, error) {
			return mine.Candidates(context.Background(), s, o, mine.CandidateParams{Class: 0, PerScan: 3, MinDistToNodule: 10, Seed: 5})
		},
		"dataset": func(o mine.Output) (*mine.Result, error) {
			return mine.Dataset(context.Background(), s, o, mine.DatasetParams{NegativesPerPositive: 2, HardFraction: 0.5, Seed: 6,
				Negatives: mine.DefaultNegatives()})
		},
	}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			o := mine.DefaultOutput(t.TempDir())
			o.Size, o.Workers = 20, 2
			res, err := run(o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Patches == 0 {
				t.Fatal("no patches")
			}
			out, patches := outputDigest(t, res), patchDigest(t, res)
			mu.Lock()
			got[name], got[name+"/patches"] = out, patches
			mu.Unlock()
			if *update {
				return
			}
			if out != pinned[name] {
				t.Errorf("digest %s, pinned %s: the output bytes changed", out, pinned[name])
			}
			if patches != pinned[name+"/patches"] {
				t.Errorf("patch digest %s, pinned %s: the patches' bytes changed", patches, pinned[name+"/patches"])
			}
		})
	}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(digestsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: say why the outputs changed in the commit", digestsFile)
	}
}

// update rewrites the pinned digests with this run's: for a change meant
// to alter outputs (go test ./mine -run TestOutputDigest -update).
var update = flag.Bool("update", false, "rewrite testdata/digests.json with this run's output digests")

// digestsFile holds the pinned digests: for each command, the digest of
// its index and patches ("negatives") and of its patches alone
// ("negatives/patches": index columns may be added, the cubes must stay).
const digestsFile = "testdata/digests.json"

func readDigests(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(digestsFile)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", digestsFile, err)
	}
	return m
}

// outputDigest hashes a run's index file and its patch files in index order.
func outputDigest(t *testing.T, res *mine.Result) string {
	t.Helper()
	idx, err := os.ReadFile(res.Index)
	if err != nil {
		t.Fatal(err)
	}
	return digest(t, res, idx)
}

// patchDigest hashes a run's patch files alone, in index order.
func patchDigest(t *testing.T, res *mine.Result) string {
	t.Helper()
	return digest(t, res, nil)
}

// digest hashes first, then the run's patch files in index order.
func digest(t *testing.T, res *mine.Result, first []byte) string {
	t.Helper()
	h := sha256.New()
	h.Write(first)
	for _, r := range readIndex(t, res.Index) {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(res.Index), r["patch_file"]))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
