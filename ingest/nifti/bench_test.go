package nifti_test

import (
	"os"
	"testing"

	"voxmine/ingest/nifti"
)

// BenchmarkReadCT reads VOXMINE_BENCH_NIFTI (bench/run.sh writes a
// 512×512×300 .nii.gz) or the real abdominal CT of ../shared/realct.
func BenchmarkReadCT(b *testing.B) {
	path := os.Getenv("VOXMINE_BENCH_NIFTI")
	if path == "" {
		path = "../../../shared/realct/abdomen-lung-bases/ct.nii.gz"
	}
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := nifti.ReadCT(path); err != nil {
			b.Fatal(err)
		}
	}
}
