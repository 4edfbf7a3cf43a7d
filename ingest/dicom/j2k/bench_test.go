package j2k

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeRealSlice decodes one 512 × 512 slice of the real JPEG
// 2000 CT series in ../shared/realct (lossless, 5 levels, 12 layers).
func BenchmarkDecodeRealSlice(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "..", "shared", "realct", "upper-abdomen-j2k", "CT*"))
	if len(files) == 0 {
		b.Skip("../shared/realct/upper-abdomen-j2k not found")
	}
	f, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	// The codestream of the slice's one fragment: SOC to EOC.
	cs := f[bytes.Index(f, []byte{0xFF, 0x4F, 0xFF, 0x51}) : bytes.LastIndex(f, []byte{0xFF, 0xD9})+2]
	b.SetBytes(512 * 512 * 2)
	for b.Loop() {
		if _, err := Decode(cs); err != nil {
			b.Fatal(err)
		}
	}
}
