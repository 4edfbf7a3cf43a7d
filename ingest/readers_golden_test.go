package ingest_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest/dicom"
	"voxmine/ingest/nifti"
	"voxmine/ingest/source"
	"voxmine/internal/itkgolden"
)

// The readers' golden tests against ITK 5.2 live here, not beside each
// reader, so that the readers' own test binaries stay small and fuzz fast.

const niftiGolden = "../testdata/itkresample/nifti"

// TestMatchesITK holds the reader to ITK 5.2's NiftiImageIO on one fixture
// per way a header can place a volume (testdata/itkresample/gennifti):
// geometry to the last bit, the voxels, and the 1 mm resampled grid; a file
// ITK refuses must be refused.
func TestNIfTIMatchesITK(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(niftiGolden, "*.nii.gz"))
	if len(files) < 10 {
		t.Fatalf("%d fixtures in %s", len(files), niftiGolden)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".nii.gz")
		t.Run(name, func(t *testing.T) {
			e, err := itkgolden.Load(strings.TrimSuffix(f, ".nii.gz") + ".itk.txt")
			if err != nil {
				t.Fatal(err)
			}
			h, hu, err := nifti.ReadCT(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := h.Geometry()
			switch {
			case strings.Contains(e.Err, "Could not create IO object"):
				// ITK 5.2 reads no NIfTI-2; voxmine applies the same rules.
				if h.Version != 2 || err != nil {
					t.Fatalf("ITK could not read it; version %d, %v", h.Version, err)
				}
				return
			case e.Err != "":
				var fe *source.FormatError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), "orthonormal") {
					t.Fatalf("ITK refuses it (%s); got %v", e.Err, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			itkgolden.Check(t, e, g, hu)
		})
	}
}

// TestRealAbdomen reads the real abdominal CT of ../shared/realct as ITK does.
func TestNIfTIRealAbdomen(t *testing.T) {
	path := itkgolden.RealCT(t, "abdomen-lung-bases/ct.nii.gz")
	e, err := itkgolden.Load("../testdata/itkresample/real/abdomen-lung-bases-ct.itk.txt")
	if err != nil {
		t.Fatal(err)
	}
	h, hu, err := nifti.ReadCT(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := h.Geometry()
	if err != nil {
		t.Fatal(err)
	}
	if h.ElementType() != "int32" {
		t.Errorf("element type %s, the file is int32", h.ElementType())
	}
	itkgolden.Check(t, e, g, hu)
	// The TotalSegmentator masks are labels on the same grid.
	m, lab, err := nifti.ReadLabels(filepath.Join(filepath.Dir(path), "lung_lower_lobe_left.nii.gz"))
	if err != nil {
		t.Fatal(err)
	}
	mg, _ := m.Geometry()
	n := 0
	for _, v := range lab {
		if v > 0 {
			n++
		}
	}
	if mg != g || n == 0 {
		t.Errorf("mask geometry %+v (scan %+v), %d labelled voxels", mg, g, n)
	}
}

// TestDICOMRealLIDC reads the real LIDC-IDRI-0001 series as ITK 5.2's
// GDCMSeriesFileNames + ImageSeriesReader do: the same file order, the same
// geometry, the same voxels and the same 1 mm grid.
func TestDICOMRealLIDC(t *testing.T) {
	dir := itkgolden.RealCT(t, "lidc-idri-0001")
	e, err := itkgolden.Load("../testdata/itkresample/real/lidc-idri-0001.itk.txt")
	if err != nil {
		t.Fatal(err)
	}
	checkDICOMSeries(t, dir, e)
}

// checkDICOMSeries finds the one series of dir and holds it to ITK's report.
func checkDICOMSeries(t *testing.T, dir string, e *itkgolden.Expect) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	found, err := dicom.Format{}.Find(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Scans) != 1 {
		t.Fatalf("%d series found (skipped %v), want 1", len(found.Scans), found.Skipped)
	}
	sc := found.Scans[0]
	if e.Series != "" && sc.UID != e.Series {
		t.Errorf("series uid %s, ITK's %s", sc.UID, e.Series)
	}
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Files) > 0 {
		for i, f := range info.Files {
			if filepath.Base(f) != e.Files[i] {
				t.Fatalf("slice %d is %s, ITK's is %s", i, filepath.Base(f), e.Files[i])
			}
		}
	}
	itkgolden.Check(t, e, info.Geometry, hu)
}

// TestDICOMMatchesITK holds the reader to ITK 5.2 on the synthetic series
// of testdata/itkresample/gendicom: every native transfer syntax, signed
// and unsigned pixels with 12 bits stored, a slope of 2, slices stored
// backwards, files in random order without suffix, mirrored and oblique
// orientations.
func TestDICOMMatchesITK(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/itkresample/dicom/*.itk.txt")
	if len(dirs) < 8 {
		t.Fatalf("%d series in testdata/itkresample/dicom", len(dirs))
	}
	for _, rep := range dirs {
		name := strings.TrimSuffix(filepath.Base(rep), ".itk.txt")
		t.Run(name, func(t *testing.T) {
			e, err := itkgolden.Load(rep)
			if err != nil {
				t.Fatal(err)
			}
			checkDICOMSeries(t, strings.TrimSuffix(rep, ".itk.txt"), e)
		})
	}
}
