package mine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDataFlowsOneWay: ingest → store → query → mine. No package imports
// one that comes after it, and mine, query and store import nothing of
// ingest (the commands wire them together).
func TestDataFlowsOneWay(t *testing.T) {
	later := map[string][]string{
		"voxmine/store": {"voxmine/ingest", "voxmine/query", "voxmine/mine"},
		"voxmine/query": {"voxmine/ingest", "voxmine/mine"},
		"voxmine/mine":  {"voxmine/ingest"},
	}
	for pkg, banned := range later {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
