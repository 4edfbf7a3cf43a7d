// Package itkgolden reads what testdata/itkresample/itkread printed about a
// scan — ITK 5.2's geometry, a digest of the voxels as read and one of the
// 1 mm grid resampled the notebook's way — and checks a reader against it.
// Readers' golden tests share it.
package itkgolden

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"voxmine/ingest/resample"
	"voxmine/internal/testenv"
	"voxmine/store"
)

// Expect is one itkread report.
type Expect struct {
	Geometry     store.Geometry
	ReadFNV      string
	GridShape    [3]int // z, y, x
	ResampledFNV string
	Files        []string // a DICOM series' files in ITK's order
	Series       string
	// Err is ITK's complaint when it refused the file; the rest is then empty.
	Err string
}

// Load parses an itkread report.
func Load(path string) (*Expect, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e := &Expect{}
	sc := bufio.NewScanner(f)
	nums := func(v string, n int) ([]float64, error) {
		fs := strings.Fields(v)
		if len(fs) != n {
			return nil, fmt.Errorf("%q: want %d numbers", v, n)
		}
		out := make([]float64, n)
		for i, s := range fs {
			if out[i], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, err
			}
			out[i] += 0 // −0 is 0
		}
		return out, nil
	}
	for sc.Scan() {
		line := sc.Text()
		if e.Err == "" && (strings.Contains(line, "ITK ERROR") || strings.Contains(line, "Could not create IO object")) {
			e.Err = strings.TrimSpace(line)
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		var vals []float64
		switch k {
		case "size":
			if vals, err = nums(v, 3); err == nil {
				e.Geometry.Shape = [3]int{int(vals[2]), int(vals[1]), int(vals[0])}
			}
		case "spacing":
			if vals, err = nums(v, 3); err == nil {
				copy(e.Geometry.Spacing[:], vals)
			}
		case "origin":
			if vals, err = nums(v, 3); err == nil {
				copy(e.Geometry.Origin[:], vals)
			}
		case "direction":
			if vals, err = nums(v, 9); err == nil {
				copy(e.Geometry.Direction[:], vals)
			}
		case "grid_size":
			if vals, err = nums(v, 3); err == nil {
				e.GridShape = [3]int{int(vals[2]), int(vals[1]), int(vals[0])}
			}
		case "read_fnv":
			e.ReadFNV = v
		case "resampled_fnv":
			e.ResampledFNV = v
		case "file":
			e.Files = append(e.Files, v)
		case "series":
			e.Series = v
		case "itk_error":
			if e.Err == "" {
				e.Err = v
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return e, sc.Err()
}

// FNV is FNV-1a 64 over int16 voxels, low byte first, in array order (x
// fastest): itkread's digest.
func FNV(v []int16) string {
	h := uint64(1469598103934665603)
	for _, x := range v {
		u := uint16(x)
		h = (h ^ uint64(u&0xff)) * 1099511628211
		h = (h ^ uint64(u>>8)) * 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

// axisAligned reports whether a direction is diagonal ±1, the grids
// voxmine resamples.
func axisAligned(d [9]float64) bool {
	for r := range 3 {
		for c := range 3 {
			v := d[r*3+c]
			if (r == c && v != 1 && v != -1) || (r != c && v != 0) {
				return false
			}
		}
	}
	return true
}

// Check compares a reader's geometry and voxels with ITK's report, and
// resamples the voxels to 1 mm to compare with ITK's resampled grid (for
// axis-aligned grids; voxmine does not resample oblique ones).
func Check(t *testing.T, e *Expect, g store.Geometry, hu []int16) {
	t.Helper()
	if g != e.Geometry {
		t.Fatalf("geometry\n got %+v\nITK %+v", g, e.Geometry)
	}
	if got := FNV(hu); got != e.ReadFNV {
		t.Fatalf("voxels as read: digest %s, ITK's %s", got, e.ReadFNV)
	}
	if !axisAligned(g.Direction) {
		t.Logf("direction %v is oblique: voxmine does not resample it; geometry and voxels match ITK", g.Direction)
		return
	}
	grid := resample.Grid1mm(g)
	if grid.Shape != e.GridShape {
		t.Fatalf("1 mm grid %v, ITK's %v", grid.Shape, e.GridShape)
	}
	vol, err := resample.Linear(context.Background(), hu, g, grid, 0, runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	if got := FNV(vol); got != e.ResampledFNV {
		t.Fatalf("resampled to 1 mm: digest %s, ITK's %s", got, e.ResampledFNV)
	}
}

// RealCT returns the path of a file under ../shared/realct, found from the
// test's folder upwards. Without it the test is skipped, except under CI,
// where it fails: CI has the folder.
func RealCT(t testing.TB, rel string) string {
	t.Helper()
	return testenv.Shared(t, "realct/"+rel)
}
