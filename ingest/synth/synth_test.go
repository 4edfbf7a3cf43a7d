package synth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDeterministic: the same seed writes the same bytes, whatever the
// number of workers; another seed writes other scans.
func TestDeterministic(t *testing.T) {
	gen := func(seed uint64, workers int) string {
		dir := filepath.Join(t.TempDir(), "d")
		if _, err := Generate(context.Background(), dir, Options{N: 3, Seed: seed, Small: true, Workers: workers}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b, c := gen(4, 1), gen(4, 3), gen(5, 2)
	err := filepath.Walk(a, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 and 3 workers", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "annotations.csv"))
	y, _ := os.ReadFile(filepath.Join(c, "annotations.csv"))
	if bytes.Equal(x, y) {
		t.Error("seeds 4 and 5 gave the same annotations")
	}
}

func TestLayoutAndRefusal(t *testing.T) {
	dir := t.TempDir()
	tr, err := Generate(context.Background(), dir, Options{N: 2, Seed: 1, Small: true, Variants: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"annotations.csv", "annotations_excluded.csv", "candidates.csv", "truth.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	for _, s := range tr.Scans {
		if _, err := os.Stat(filepath.Join(dir, s.Path)); err != nil {
			t.Errorf("%s: %v", s.Variant, err)
		}
		if !IsBroken(s.Variant) {
			if _, err := os.Stat(filepath.Join(dir, s.MaskPath)); err != nil {
				t.Errorf("mask of %s: %v", s.UID, err)
			}
		}
	}
	if _, err := Generate(context.Background(), dir, Options{N: 1}); err == nil {
		t.Error("wrote into a non-empty folder")
	}
	// LUNA16's header keys, in LUNA16's order.
	b, _ := os.ReadFile(filepath.Join(dir, tr.Scans[0].Path))
	want := "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = False\nTransformMatrix = "
	if !bytes.HasPrefix(b, []byte(want)) || !bytes.Contains(b, []byte("ElementType = MET_SHORT\nElementDataFile = ")) {
		t.Errorf("header:\n%s", b)
	}
}
