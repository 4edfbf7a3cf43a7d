package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"voxmine/ingest/dicom"
	"voxmine/ingest/lungseg"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/resample"
	"voxmine/ingest/synth"
	"voxmine/internal/itkgolden"
	"voxmine/internal/testenv"
	"voxmine/store"
	"voxmine/store/spots"
)

// fullScan generates one full-size synthetic scan once per test binary.
var fullScan = sync.OnceValues(func() (string, error) {
	dir, err := testenv.TempDir("voxmine-bench-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(context.Background(), dir, synth.Options{N: 1, Seed: 42, Workers: 2})
	return dir, err
})

func loadFull(b *testing.B) (*metaimage.Header, []int16, *synth.Truth) {
	dir, err := fullScan()
	if err != nil {
		b.Fatal(err)
	}
	tr, err := synth.ReadTruth(filepath.Join(dir, "truth.json"))
	if err != nil {
		b.Fatal(err)
	}
	h, hu, err := metaimage.ReadCT(filepath.Join(dir, tr.Scans[0].Path))
	if err != nil {
		b.Fatal(err)
	}
	return h, hu, tr
}

func BenchmarkReadCT(b *testing.B) {
	h, _, tr := loadFull(b)
	dir, _ := fullScan()
	b.SetBytes(int64(h.Voxels() * 2))
	for b.Loop() {
		if _, _, err := metaimage.ReadCT(filepath.Join(dir, tr.Scans[0].Path)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile is ReadCT's floor: reading the same .raw with
// os.ReadFile, side by side.
func BenchmarkReadFile(b *testing.B) {
	h, _, _ := loadFull(b)
	b.SetBytes(int64(h.Voxels() * 2))
	for b.Loop() {
		if _, err := os.ReadFile(h.DataFile); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResample(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			h, hu, _ := loadFull(b)
			g := h.Geometry()
			b.SetBytes(int64(len(hu) * 2))
			for b.Loop() {
				if _, err := resample.Linear(context.Background(), hu, g, resample.Grid1mm(g), -1000, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loadFull1mm is the full-size phantom resampled to its 1 mm grid.
func loadFull1mm(b *testing.B) ([]int16, store.Geometry) {
	h, hu, _ := loadFull(b)
	g := h.Geometry()
	grid := resample.Grid1mm(g)
	vol, err := resample.Linear(context.Background(), hu, g, grid, -1000, 2)
	if err != nil {
		b.Fatal(err)
	}
	return vol, grid
}

// BenchmarkSegmentLungs computes the lungs of a full-size phantom and, when
// ../shared/realct is beside the project, of the real LIDC-IDRI-0001 chest
// CT, with GOMAXPROCS workers (-cpu 1 is ingest's --workers 1).
func BenchmarkSegmentLungs(b *testing.B) {
	b.Run("phantom", func(b *testing.B) {
		vol, grid := loadFull1mm(b)
		benchLungs(b, vol, grid)
	})
	b.Run("lidc", func(b *testing.B) {
		vol, grid := loadLIDC1mm(b)
		benchLungs(b, vol, grid)
	})
}

func benchLungs(b *testing.B, vol []int16, grid store.Geometry) {
	b.SetBytes(int64(len(vol) * 2))
	for b.Loop() {
		if _, err := lungseg.Segment(context.Background(), vol, grid, runtime.GOMAXPROCS(0)); err != nil {
			b.Fatal(err)
		}
	}
}

// loadLIDC1mm is the real LIDC-IDRI-0001 series on its 1 mm grid.
func loadLIDC1mm(b *testing.B) ([]int16, store.Geometry) {
	dir := itkgolden.RealCT(b, "lidc-idri-0001")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	found, err := dicom.Format{}.Find(context.Background(), files)
	if err != nil || len(found.Scans) == 0 {
		b.Fatalf("no series in %s: %v", dir, err)
	}
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
	if err != nil {
		b.Fatal(err)
	}
	grid := resample.Grid1mm(info.Geometry)
	vol, err := resample.Linear(context.Background(), hu, info.Geometry, grid, -1000, 2)
	if err != nil {
		b.Fatal(err)
	}
	return vol, grid
}

// BenchmarkFindSpots is the nodule-likeness pass ingest adds for hard
// negatives, on a full-size phantom's 1 mm grid and computed lungs.
func BenchmarkFindSpots(b *testing.B) {
	vol, grid := loadFull1mm(b)
	lungs, err := lungseg.Segment(context.Background(), vol, grid, runtime.GOMAXPROCS(0))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		bl, err := spots.Find(context.Background(), vol, lungs.Labels, grid.Shape, runtime.GOMAXPROCS(0))
		if err != nil {
			b.Fatal(err)
		}
		n = len(bl)
	}
	b.ReportMetric(float64(n), "blobs")
}
