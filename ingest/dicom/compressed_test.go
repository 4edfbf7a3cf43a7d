package dicom

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"voxmine/ingest/dicom/j2k"
	"voxmine/ingest/source"
	"voxmine/internal/testenv"
)

// TestRealJPEG2000Pixels: every slice of the real JPEG 2000 series decodes
// to the stored values OpenJPEG gives (testdata/make_j2k_golden.sh).
func TestRealJPEG2000Pixels(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := testenv.Shared(t, "realct/upper-abdomen-j2k")
	f, err := os.Open("testdata/j2k-real.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		name, want, _ := strings.Cut(sc.Text(), " ")
		s, err := readWhole(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		frames, err := encapsulatedFrames(s.pixels, 1, s.TransferSyntax)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cs := frames[0]
		img, err := j2k.Decode(cs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := make([]byte, 2*len(img.Pix))
		for i, v := range img.Pix {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v)))
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != want {
			t.Errorf("%s: samples differ from OpenJPEG's", name)
		}
	}
	if n != 20 {
		t.Errorf("%d slices in the golden list", n)
	}
}

func TestEncapsulatedFrames(t *testing.T) {
	item := func(n int, fill ...byte) []byte {
		b := []byte{0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		for i := range n {
			b = append(b, fill[min(i, len(fill)-1)])
		}
		return b
	}
	table := func(offsets ...uint32) []byte {
		b := make([]byte, 4*len(offsets))
		for i, o := range offsets {
			binary.LittleEndian.PutUint32(b[4*i:], o)
		}
		return append(item(len(b), 0)[:8], b...)
	}
	delim := []byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0}
	join := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	const (
		jpeg = "1.2.840.10008.1.2.4.70"
		j2k  = "1.2.840.10008.1.2.4.90"
		rle  = "1.2.840.10008.1.2.5"
	)
	soi, soc := []byte{0xFF, 0xD8, 'a'}, []byte{0xFF, 0x4F, 'k'}
	tests := []struct {
		name   string
		b      []byte
		frames int
		ts     string
		want   string // the frames' bytes joined by "|", or "error"
	}{
		{"one frame, empty table, two fragments", join(item(0), item(2, 'a'), item(4, 'b'), delim), 1, jpeg, "aabbbb"},
		{"one frame, a table entry", join(item(4, 9), item(3, 'c'), delim), 1, jpeg, "ccc"},
		{"no delimiter at the end of the file", join(item(0), item(2, 'd')), 1, jpeg, "dd"},
		{"offset table only", join(item(0), delim), 1, jpeg, "error"},
		{"fragment past the end", join(item(0), item(2, 'a')[:9]), 1, jpeg, "error"},
		{"not an item", join(item(0), []byte{1, 0, 2, 0, 0, 0, 0, 0}), 1, jpeg, "error"},
		{"a fragment per frame", join(item(0), item(2, 'a'), item(3, 'b'), item(1, 'c'), delim), 3, rle, "aa|bbb|c"},
		{"table, frames over several fragments", join(table(0, 20), item(2, 'a'), item(2, 'b'), item(1, 'c'), delim), 2, rle, "aabb|c"},
		{"table entry inside a fragment", join(table(0, 5), item(2, 'a'), item(2, 'b'), delim), 2, rle, "error"},
		{"table of another frame count", join(table(0, 10, 20), item(2, 'a'), item(2, 'b'), delim), 2, rle, "error"},
		{"no table, frames found by SOI", join(item(0), item(3, soi...), item(2, 'x'), item(3, soi...), delim), 2, jpeg, `\xff\xd8axx|\xff\xd8a`},
		{"no table, frames found by SOC", join(item(0), item(3, soc...), item(3, soc...), item(1, 'y'), delim), 2, j2k, `\xffOk|\xffOky`},
		{"no table, first fragment no SOI", join(item(0), item(2, 'x'), item(3, soi...), item(3, soi...), delim), 2, jpeg, "error"},
		{"no table, too few frames", join(item(0), item(3, soi...), item(2, 'x'), item(2, 'y'), delim), 2, jpeg, "error"},
		{"no table, RLE fragments cannot be split", join(item(0), item(2, 'a'), item(2, 'b'), item(2, 'c'), delim), 2, rle, "error"},
	}
	for _, tc := range tests {
		frames, err := encapsulatedFrames(tc.b, tc.frames, tc.ts)
		var got []string
		for _, f := range frames {
			got = append(got, strings.Trim(strconv.QuoteToASCII(string(f)), `"`))
		}
		if (err != nil) != (tc.want == "error") || (err == nil && strings.Join(got, "|") != tc.want) {
			t.Errorf("%s: %q, %v; want %s", tc.name, got, err, tc.want)
		}
	}
}

// TestCompressedSyntaxes reads small slices that DCMTK and GDCM compressed
// (testdata/make_compressed.sh) and compares their HU with the
// uncompressed source: lossless JPEG with each predictor and a point
// transform, RLE, JPEG 2000, JPEG-LS lossless and near-lossless (within
// NEAR); lossy JPEG is refused with an UnsupportedError.
func TestCompressedSyntaxes(t *testing.T) {
	files, _ := filepath.Glob("testdata/compressed/*.dcm")
	if len(files) < 40 {
		t.Fatalf("%d fixtures in testdata/compressed", len(files))
	}
	read := func(path string) (*Slice, []int16, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(b, path)
		if err != nil {
			t.Fatal(err)
		}
		hu := make([]int16, s.Rows*s.Columns)
		return s, hu, s.HU(hu)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dcm")
		src, _, _ := strings.Cut(name, "-")
		t.Run(name, func(t *testing.T) {
			s, got, err := read(f)
			if strings.Contains(name, "baseline") {
				if !errors.Is(err, source.ErrUnsupported) {
					t.Errorf("transfer syntax %s: %v, want an UnsupportedError", s.TransferSyntax, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("transfer syntax %s: %v", s.TransferSyntax, err)
			}
			if !s.encapsulated {
				t.Fatalf("transfer syntax %s is not compressed", s.TransferSyntax)
			}
			_, want, err := read(filepath.Join("testdata", "compressed", "src", src+".dcm"))
			if err != nil {
				t.Fatal(err)
			}
			pt2 := strings.HasSuffix(name, "-pt2")
			tolerance := int16(0)
			if strings.Contains(name, "near3") {
				tolerance = 3 // near-lossless JPEG-LS: |error| ≤ NEAR
			}
			for i := range want {
				w := want[i]
				if pt2 { // the point transform drops the two low bits of the stored value
					inter := int16(s.Intercept)
					w = (w-inter)&^3 + inter
				}
				if d := got[i] - w; d > tolerance || d < -tolerance {
					t.Fatalf("pixel %d: %d HU, source %d", i, got[i], w)
				}
			}
		})
	}
}
