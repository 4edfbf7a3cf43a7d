package j2k

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samplesHash is the SHA-256 of an image's samples as little-endian
// int16, as testdata/make.sh hashes what opj_decompress writes.
func samplesHash(img *Image) string {
	b := make([]byte, 2*len(img.Pix))
	for i, v := range img.Pix {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v)))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readPGM reads testdata's 16-bit PGM source image.
func readPGM(t *testing.T, path string) (w, h int, pix []int32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	pos := 2
	for len(nums) < 3 {
		for b[pos] == ' ' || b[pos] == '\n' {
			pos++
		}
		v := 0
		for b[pos] >= '0' && b[pos] <= '9' {
			v = v*10 + int(b[pos]-'0')
			pos++
		}
		nums = append(nums, v)
	}
	w, h = nums[0], nums[1]
	rest := b[pos+1:]
	pix = make([]int32, w*h)
	for i := range pix {
		pix[i] = int32(binary.BigEndian.Uint16(rest[2*i:]))
	}
	return w, h, pix
}

// TestDecodeFixtures decodes codestreams that OpenJPEG made in every
// progression order and coding style (testdata/make.sh) and compares the
// samples with OpenJPEG's decoding of them; the lossless ones must also
// give back the source image.
func TestDecodeFixtures(t *testing.T) {
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, h, src := readPGM(t, "testdata/u12.pgm")
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		name, want, _ := strings.Cut(sc.Text(), " ")
		n++
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", name+".j2k"))
			if os.IsNotExist(err) {
				b, err = os.ReadFile(filepath.Join("testdata", name+".jp2"))
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if got := samplesHash(img); got != want {
				t.Errorf("samples hash %s, OpenJPEG's %s", got, want)
			}
			lossless := !strings.Contains(name, "truncated") && !strings.Contains(name, "layers")
			if lossless && !strings.HasPrefix(name, "signed") {
				if img.Width != w || img.Height != h || img.Precision != 12 || img.Signed {
					t.Fatalf("%d×%d, %d bits, signed %v; want %d×%d, 12 bits, unsigned", img.Width, img.Height, img.Precision, img.Signed, w, h)
				}
				for i := range src {
					if img.Pix[i] != src[i] {
						t.Fatalf("sample %d: %d, source %d", i, img.Pix[i], src[i])
					}
				}
			}
			if strings.HasPrefix(name, "signed") && (!img.Signed || img.Precision != 16) {
				t.Errorf("signed %v, %d bits; want signed 16 bits", img.Signed, img.Precision)
			}
		})
	}
	if n < 15 {
		t.Fatalf("golden.txt lists %d codestreams", n)
	}
}

// TestDecodeIrreversible: lossy codestreams (the 9/7 wavelet, scalar
// quantization, with and without truncated layers) come within one unit
// of OpenJPEG's samples, which it computes in float32 (voxmine in
// float64); at most 2 % may differ at all (0.2–0.8 % do).
func TestDecodeIrreversible(t *testing.T) {
	for _, name := range []string{"irreversible", "irreversible-layers", "irreversible-signed16"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".j2k"))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := os.ReadFile(filepath.Join("testdata", name+".opj.rawl"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if 2*len(img.Pix) != len(ref) {
			t.Fatalf("%s: %d samples, OpenJPEG %d", name, len(img.Pix), len(ref)/2)
		}
		differ, worst := 0, int32(0)
		for i, v := range img.Pix {
			d := v - int32(int16(binary.LittleEndian.Uint16(ref[2*i:])))
			if d != 0 {
				differ++
				worst = max(worst, d, -d)
			}
		}
		t.Logf("%s: %d of %d samples differ from OpenJPEG's, by at most %d", name, differ, len(img.Pix), worst)
		if worst > 1 || differ*50 > len(img.Pix) {
			t.Errorf("%s: %d samples differ, by up to %d", name, differ, worst)
		}
	}
}

// TestDecodeRefuses: what the decoder does not read is an error wrapping
// ErrUnsupported or a plain error, never a panic or a wrong image.
func TestDecodeRefuses(t *testing.T) {
	good, err := os.ReadFile("testdata/lrcp.j2k")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"not a codestream", []byte("GIF89a......")},
		{"main header only", good[:60]},
	} {
		if _, err := Decode(tc.b); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// A codestream cut short is an error, not a blurred image.
	if _, err := Decode(good[:len(good)*2/3]); err == nil || !strings.Contains(err.Error(), "runs past the codestream") {
		t.Errorf("truncated tile-part: %v", err)
	}
}

// FuzzDecode: no input makes the decoder panic or run away.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"lrcp", "all-modes", "rpcl-precincts", "tileparts-sop-eph", "signed16-bypass-layers", "irreversible-layers"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".j2k"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := DecodeLimited(b, 1<<14)
		if err == nil && len(img.Pix) != img.Width*img.Height {
			t.Fatalf("%d samples for %d×%d", len(img.Pix), img.Width, img.Height)
		}
	})
}
