package j2k

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// realSlices returns the codestreams of the real JPEG 2000 CT series in
// ../shared/realct (lossless, 5 levels, 12 layers), each its slice's one
// fragment from SOC to EOC.
func realSlices(b *testing.B) [][]byte {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "..", "shared", "realct", "upper-abdomen-j2k", "CT*"))
	if len(files) == 0 {
		b.Skip("../shared/realct/upper-abdomen-j2k not found")
	}
	var out [][]byte
	for _, name := range files {
		f, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, f[bytes.Index(f, []byte{0xFF, 0x4F, 0xFF, 0x51}):bytes.LastIndex(f, []byte{0xFF, 0xD9})+2])
	}
	return out
}

// BenchmarkDecodeRealSlice decodes the first 512 × 512 slice of the real
// series: `opj_decompress -i slice.j2k -o out.raw` reports its decode
// time for the same codestream.
func BenchmarkDecodeRealSlice(b *testing.B) {
	cs := realSlices(b)[0]
	b.SetBytes(512 * 512 * 2)
	for b.Loop() {
		if _, err := Decode(cs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDir decodes every .j2k codestream in $J2K_DIR, one
// after another, and reports the mean time a codestream: what
// `opj_decompress -ImgDir $J2K_DIR -OutFor RAW` reports as its decode
// time, for runs side by side (bench/j2k.sh).
func BenchmarkDecodeDir(b *testing.B) {
	dir := os.Getenv("J2K_DIR")
	if dir == "" {
		b.Skip("J2K_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.j2k"))
	if len(files) == 0 {
		b.Fatalf("no .j2k files in %s", dir)
	}
	var all [][]byte
	for _, name := range files {
		cs, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, cs)
	}
	for b.Loop() {
		for _, cs := range all {
			if _, err := Decode(cs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(all)), "ms/codestream")
}
