package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"voxmine/ingest"
	"voxmine/ingest/nifti"
	"voxmine/ingest/synth"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestNIfTIScansAndMasks ingests NIfTI scans with NIfTI lung masks from a
// mask folder, matched by uid, and resumes.
func TestNIfTIScansAndMasks(t *testing.T) {
	root := t.TempDir()
	src, masks := filepath.Join(root, "src"), filepath.Join(root, "masks")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(masks, 0o755)
	h := &nifti.Header{Version: 1, Dim: [3]int{40, 36, 20}, Datatype: 4, Pixdim: [4]float64{1, 0.8, 0.8, 2}, SformCode: 1,
		Srow: [3][4]float64{{-0.8, 0, 0, 10}, {0, -0.8, 0, 20}, {0, 0, 2, -100}}}
	ct := make([]int16, h.Voxels())
	lab := make([]uint8, h.Voxels())
	for i := range ct {
		x := i % 40
		ct[i] = -900
		if x >= 20 {
			ct[i], lab[i] = 40, 0
		} else {
			lab[i] = 3
		}
	}
	for _, uid := range []string{"case.1", "case.2"} {
		if err := nifti.WriteFile(filepath.Join(src, uid+".nii.gz"), h, ct); err != nil {
			t.Fatal(err)
		}
		mh := *h
		mh.Datatype = 2
		if err := nifti.WriteFile(filepath.Join(masks, uid+".nii.gz"), &mh, lab); err != nil {
			t.Fatal(err)
		}
	}
	o := ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(root, "store"), MaskDir: masks, Workers: 2, PadHU: -1000}
	rep, err := ingest.Run(context.Background(), o)
	if err != nil || rep.Count(ingest.Ingested) != 2 || rep.MasksFound != 2 {
		t.Fatalf("%v: %+v", err, rep)
	}
	s, err := store.Open(o.StoreDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range storetest.Scans(t, s) {
		if info.Source.Format != "nifti" || info.LabelSource != "file" || info.LungVoxels == 0 || info.Source.ElementType != "int16" {
			t.Errorf("%s: format %q, labels %q, %d lung voxels, element %q", info.UID, info.Source.Format, info.LabelSource, info.LungVoxels, info.Source.ElementType)
		}
	}
	// Resume: nothing changed, nothing is read; a touched file is read again.
	if rep, err = ingest.Run(context.Background(), o); err != nil || rep.Count(ingest.Skipped) != 2 {
		t.Fatalf("rerun: %v, %d skipped", err, rep.Count(ingest.Skipped))
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(masks, "case.2.nii.gz"), later, later)
	if rep, err = ingest.Run(context.Background(), o); err != nil || rep.Count(ingest.Ingested) != 1 {
		t.Fatalf("after touching a mask: %v, %d ingested", err, rep.Count(ingest.Ingested))
	}
}

// TestDICOMResume: the fingerprint covers every file of a series, so a
// re-ingest skips an unchanged series and redoes one whose slice changed.
func TestDICOMResume(t *testing.T) {
	src := filepath.Join("..", "testdata", "itkresample", "dicom")
	o := ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(t.TempDir(), "store"), Workers: 2, PadHU: -1000, Lung: ingest.LungSourceNone}
	rep, err := ingest.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// 8 series; the oblique one fails (voxmine resamples axis-aligned grids only).
	if rep.Count(ingest.Ingested) != 7 || rep.Count(ingest.Failed) != 1 {
		for _, r := range rep.Results {
			t.Logf("%s %s %v", r.UID, r.Status, r.Err)
		}
		t.Fatalf("%d ingested, %d failed; want 7 and the oblique one", rep.Count(ingest.Ingested), rep.Count(ingest.Failed))
	}
	// Copy one series elsewhere to touch a slice without changing testdata.
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	if err := os.CopyFS(one, os.DirFS(filepath.Join(src, "deflated"))); err != nil {
		t.Fatal(err)
	}
	o = ingest.Options{Sources: []string{one}, StoreDir: filepath.Join(dir, "store"), Workers: 1, PadHU: -1000, Lung: ingest.LungSourceNone}
	if rep, err = ingest.Run(context.Background(), o); err != nil || rep.Count(ingest.Ingested) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	if rep, _ = ingest.Run(context.Background(), o); rep.Count(ingest.Skipped) != 1 {
		t.Fatalf("rerun: %d skipped, want 1", rep.Count(ingest.Skipped))
	}
	entries, _ := os.ReadDir(one)
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(one, entries[len(entries)/2].Name()), later, later)
	if rep, _ = ingest.Run(context.Background(), o); rep.Count(ingest.Ingested) != 1 {
		t.Fatalf("after touching a slice: %d ingested, want 1", rep.Count(ingest.Ingested))
	}
}

// TestBadLIDCReadFailsAlone: a broken LIDC XML beside a DICOM series costs
// only its own annotations: the scan is ingested and the XML is listed
// among the skipped files with the reason.
func TestBadLIDCReadFailsAlone(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	if err := os.CopyFS(one, os.DirFS(filepath.Join("..", "testdata", "itkresample", "dicom", "deflated"))); err != nil {
		t.Fatal(err)
	}
	broken := `<?xml version="1.0"?><LidcReadMessage xmlns="http://www.nih.gov"><ResponseHeader><SeriesInstanceUid>x</SeriesInstanceUid></ResponseHeader><readingSession><unblindedReadNodule><roi><imageZposition>oops</imageZposition></roi></unblindedReadNodule></readingSession></LidcReadMessage>`
	os.WriteFile(filepath.Join(one, "reads.xml"), []byte(broken), 0o644)
	os.WriteFile(filepath.Join(one, "other.xml"), []byte(`<?xml version="1.0"?><notes>not a read</notes>`), 0o644)
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{one}, StoreDir: filepath.Join(dir, "store"), Workers: 1, PadHU: -1000, Lung: ingest.LungSourceNone})
	if err != nil || rep.Count(ingest.Ingested) != 1 {
		t.Fatalf("%v: %d ingested", err, rep.Count(ingest.Ingested))
	}
	var saw bool
	for _, s := range rep.Skipped {
		if strings.HasSuffix(s.Path, "reads.xml") && strings.Contains(s.Reason, "imageZposition") {
			saw = true
		}
		if strings.HasSuffix(s.Path, "other.xml") {
			t.Errorf("an XML that is not a read was listed: %v", s)
		}
	}
	if !saw {
		t.Errorf("skipped %v: the broken read should be listed with its reason", rep.Skipped)
	}
}

// TestFindsCSVsInSource: inside a LUNA16-like download, ingest takes the
// CSVs beside the subsets when none is named, and says so; an empty source
// is an error.
func TestFindsCSVsInSource(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "luna16")
	if _, err := synth.Generate(context.Background(), src, synth.Options{N: 1, Seed: 9, Small: true, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	var found *ingest.Report
	rep, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: filepath.Join(dir, "store"), Workers: 1, PadHU: -1000,
		Lung: ingest.LungSourceNone, FindCSVs: true, Planned: func(r *ingest.Report) { found = r }})
	if err != nil {
		t.Fatal(err)
	}
	if found == nil || found.Selected != 1 || rep.FoundCSVs["annotations"] == "" || rep.FoundCSVs["candidates"] == "" || rep.FindingRows["annotations"] == 0 {
		t.Errorf("found %+v; CSVs taken %v, rows %v", found, rep.FoundCSVs, rep.FindingRows)
	}
	s, _ := store.Open(filepath.Join(dir, "store"))
	if f, _ := s.Findings(); len(f.Series) == 0 {
		t.Error("the findings of the CSVs found were not stored")
	}
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{t.TempDir()}, StoreDir: filepath.Join(dir, "s2"), Workers: 1}); err == nil || !strings.Contains(err.Error(), "no scans found") {
		t.Errorf("empty source: %v", err)
	}
}
