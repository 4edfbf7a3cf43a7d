package dicom_test

import (
	"context"
	"os"
	"testing"

	"voxmine/ingest/dicom"
)

// BenchmarkReadSeries reads a whole series as HU: VOXMINE_BENCH_DICOM (a
// folder holding one series, as bench/run.sh makes) or the real
// LIDC-IDRI-0001 series.
func BenchmarkReadSeries(b *testing.B) {
	dir := os.Getenv("VOXMINE_BENCH_DICOM")
	if dir == "" {
		dir = realCT(&testing.T{}, "lidc-idri-0001")
	}
	var fs []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Skip(err)
	}
	for _, e := range entries {
		fs = append(fs, dir+"/"+e.Name())
	}
	// Finding the series is part of the work, as it is of ITK's
	// GDCMSeriesFileNames + ImageSeriesReader measured beside it.
	for b.Loop() {
		found, err := dicom.Format{}.Find(context.Background(), fs)
		if err != nil || len(found.Scans) != 1 {
			b.Fatalf("%v, %d series", err, len(found.Scans))
		}
		if _, _, err := (dicom.Format{}).ReadCT(context.Background(), found.Scans[0]); err != nil {
			b.Fatal(err)
		}
	}
}
