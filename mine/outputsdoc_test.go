package mine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"voxmine/internal/testenv"
	"voxmine/mine"
)

// TestOutputsDocExample runs the training example of docs/OUTPUTS.md with
// Debian's NumPy on a packed run: the documented code must work.
func TestOutputsDocExample(t *testing.T) {
	py := "/usr/bin/python3"
	testenv.Require(t, py+" has no numpy", exec.Command(py, "-c", "import numpy").Run())
	doc, err := os.ReadFile(filepath.Join("..", "docs", "OUTPUTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```python\n")
	code, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/OUTPUTS.md has no python block")
	}
	_, s := setup(t)
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.Pack = 16, true
	p := mine.DefaultNegatives()
	p.PerScan, p.Hardness = 4, "mix:0.5"
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	check := code + `
import sys
ds = Patches(sys.argv[1])
assert len(ds) == ` + strconv.Itoa(res.Patches) + `, len(ds)
x, y = ds[0]
assert x.shape == (1, 16, 16, 16) and x.dtype == np.float32 and y == 0
assert 0.0 <= x.min() and x.max() <= 1.0
strata = ds.strata("drawn")
assert sum(len(v) for v in strata.values()) == len(ds)
assert {k[1] for k in strata} <= {"hard", "uniform"}, strata.keys()
dset = Patches(sys.argv[2], "index.csv")
kinds = {k[1] for k in dset.strata()}
assert kinds == {"positive", "negative", "hard_negative"}, kinds
print("ok", len(ds), sorted(strata), len(dset))
`
	od := mine.DefaultOutput(t.TempDir())
	od.Size, od.Pack = 16, true
	if _, err := mine.Dataset(context.Background(), s, od, mine.DatasetParams{NegativesPerPositive: 2, HardFraction: 0.5, Seed: 1,
		Negatives: mine.DefaultNegatives()}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", check, o.Dir, od.Dir)
	python, _ := filepath.Abs(filepath.Join("..", "python"))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+python)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Fatalf("the documented example failed: %v\n%s", err, out)
	}
}
