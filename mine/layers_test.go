package mine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDataFlowsOneWay: ingest → store → query → mine. No package imports
// one that comes after it, and mine, query and store import nothing of
// ingest (the commands wire them together). Below that, the leaves stay
// leaves: grid imports nothing of voxmine, the format readers and the
// lung segmentation know grids, not the store (so they do not pull in
// mmap, LZ4 and uuid), and the store's format does not depend on how
// spots are found. The sorted tables and the DICOM writer for tests are
// leaves too.
func TestDataFlowsOneWay(t *testing.T) {
	banned := map[string][]string{
		"voxmine/store":            {"voxmine/ingest", "voxmine/query", "voxmine/mine", "voxmine/store/spots"},
		"voxmine/store/grid":       {"voxmine/"},
		"voxmine/store/spots":      {"voxmine/ingest", "voxmine/query", "voxmine/mine"},
		"voxmine/query":            {"voxmine/ingest", "voxmine/mine"},
		"voxmine/mine":             {"voxmine/ingest"},
		"voxmine/ingest/resample":  {"voxmine/store", "voxmine/ingest/"},
		"voxmine/ingest/lungseg":   {"voxmine/store", "voxmine/ingest/"},
		"voxmine/ingest/dicom":     {"voxmine/store", "github.com/edsrzf/mmap-go", "github.com/pierrec/lz4/v4", "github.com/google/uuid"},
		"voxmine/ingest/metaimage": {"voxmine/store", "github.com/edsrzf/mmap-go", "github.com/pierrec/lz4/v4"},
		"voxmine/ingest/nifti":     {"voxmine/store", "github.com/edsrzf/mmap-go", "github.com/pierrec/lz4/v4"},
		"voxmine/ingest/lidc":      {"voxmine/store"},
		"voxmine/ingest/totalseg":  {"voxmine/store"},
		// The sorted tables know nothing of what they hold.
		"voxmine/store/jsonl": {"voxmine/store", "voxmine/ingest", "voxmine/query", "voxmine/mine"},
		// The DICOM writer for tests reads nothing of voxmine (so dicom's
		// own tests may use it), and no command carries it.
		"voxmine/ingest/dicom/dicomtest": {"voxmine/"},
		"voxmine/cmd/ingest":             {"voxmine/ingest/dicom/dicomtest"},
		"voxmine/cmd/mine":               {"voxmine/ingest/dicom/dicomtest", "voxmine/ingest"},
	}
	// What a leaf may import of voxmine nonetheless.
	allowed := map[string]bool{"voxmine/store/grid": true, "voxmine/internal/workpool": true}
	for pkg, ban := range banned {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == pkg || allowed[dep] && pkg != "voxmine/store/grid" {
				continue
			}
			if strings.HasPrefix(dep, pkg+"/") {
				continue // its own subpackages
			}
			for _, b := range ban {
				if dep == b || strings.HasPrefix(dep, strings.TrimSuffix(b, "/")+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
