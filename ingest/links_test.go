package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/synth"
)

// TestSymbolicLinks: a dataset kept elsewhere and linked in is ingested
// whole: linked files, linked folders, and --src itself a link without a
// trailing slash. A link back up does not loop, and a dangling link is
// named with its target, not passed over.
func TestSymbolicLinks(t *testing.T) {
	orig, tr := small(t)
	var good []synth.ScanTruth
	for _, s := range tr.Scans {
		if s.Variant == "" {
			good = append(good, s)
		}
	}
	if len(good) < 3 {
		t.Fatalf("%d plain scans in the small set, want 3", len(good))
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.MkdirAll(real, 0o755)
	cp := func(rel, dst string) {
		b, err := os.ReadFile(filepath.Join(orig, rel))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst, b, 0o644)
	}
	link := func(target, name string) {
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	// Scan 0 lies in the folder; scan 1 is linked in file by file (header
	// and data); scan 2 sits in a folder elsewhere, linked in whole.
	for _, ext := range []string{".mhd", ".raw"} {
		base := strings.TrimSuffix(good[0].Path, ".mhd") + ext
		cp(base, filepath.Join(real, filepath.Base(base)))
	}
	for _, ext := range []string{".mhd", ".raw"} {
		base := strings.TrimSuffix(good[1].Path, ".mhd") + ext
		link(filepath.Join(orig, base), filepath.Join(real, filepath.Base(base)))
	}
	elsewhere := filepath.Join(dir, "elsewhere", "subset7")
	os.MkdirAll(elsewhere, 0o755)
	for _, ext := range []string{".mhd", ".raw"} {
		base := strings.TrimSuffix(good[2].Path, ".mhd") + ext
		cp(base, filepath.Join(elsewhere, filepath.Base(base)))
	}
	link(elsewhere, filepath.Join(real, "subset7"))
	link(real, filepath.Join(real, "loop"))                               // a link back up
	link(filepath.Join(dir, "gone"), filepath.Join(real, "dangling.mhd")) // points nowhere
	top := filepath.Join(dir, "linked")
	link(real, top)

	d, err := ingest.Discover(context.Background(), []string{top}, "", nil) // no trailing slash
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Scans) != 3 {
		t.Errorf("%d scans found through links, want 3", len(d.Scans))
	}
	dangling := false
	for _, s := range d.Skipped {
		if strings.HasSuffix(s.Path, "dangling.mhd") && strings.Contains(s.Reason, filepath.Join(dir, "gone")) {
			dangling = true
		}
	}
	if !dangling {
		t.Errorf("the dangling link is not reported: %+v", d.Skipped)
	}
}

// TestNoScansSaysWhy: a folder of files none of which is a scan says why,
// with a count per reason, rather than only "no scans found".
func TestNoScansSaysWhy(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("x%d.dcm", i)), []byte("not DICOM at all"), 0o644)
	}
	os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling.nii"))
	_, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{dir}, StoreDir: filepath.Join(t.TempDir(), "st"), Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "no scans found") || !strings.Contains(err.Error(), "1 files were skipped: 1 × a symbolic link") || !strings.Contains(err.Error(), "3 files are of no format") {
		t.Errorf("%v", err)
	}
}
