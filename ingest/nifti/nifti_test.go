package nifti_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest/nifti"
	"voxmine/ingest/source"
)

// TestVersionsAndTypes round-trips every datatype through NIfTI-1 and
// NIfTI-2, with scaling, gzipped or not.
func TestVersionsAndTypes(t *testing.T) {
	dir := t.TempDir()
	vals := []float64{-1024, -1, 0, 1, 7, 100, 3071}
	for _, version := range []int{1, 2} {
		for _, tc := range []struct {
			dt   int16
			data any
		}{
			{4, []int16{-1024, -1, 0, 1, 7, 100, 3071}},
			{512, []uint16{0, 1023, 1024, 1025, 1031, 1124, 4095}},
			{8, []int32{-1024, -1, 0, 1, 7, 100, 3071}},
			{16, []float32{-1024, -1, 0, 1, 7, 100, 3071}},
			{64, []float64{-1024, -1, 0, 1, 7, 100, 3071}},
		} {
			h := &nifti.Header{Version: version, Dim: [3]int{7, 1, 1}, Datatype: tc.dt, Pixdim: [4]float64{1, 1, 1, 1}, QformCode: 1}
			if tc.dt == 512 {
				h.Slope, h.Inter = 1, -1024 // unsigned storage, as some converters write CT
			}
			for _, ext := range []string{".nii", ".nii.gz"} {
				p := filepath.Join(dir, "x"+ext)
				if err := nifti.WriteFile(p, h, tc.data); err != nil {
					t.Fatal(err)
				}
				got, hu, err := nifti.ReadCT(p)
				if err != nil {
					t.Fatalf("v%d dt %d %s: %v", version, tc.dt, ext, err)
				}
				want := vals
				if tc.dt == 512 {
					want = []float64{-1024, -1, 0, 1, 7, 100, 3071}
				}
				for i, v := range hu {
					if float64(v) != want[i] {
						t.Fatalf("v%d dt %d %s: voxel %d = %d, want %v", version, tc.dt, ext, i, v, want[i])
					}
				}
				if got.Version != version {
					t.Errorf("version %d, wrote %d", got.Version, version)
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	good := func() []byte {
		var b bytes.Buffer
		h := &nifti.Header{Version: 1, Dim: [3]int{2, 2, 2}, Datatype: 4, Pixdim: [4]float64{1, 1, 1, 1}}
		if err := nifti.Encode(&b, h, make([]int16, 8)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name        string
		mutate      func(b []byte) []byte
		want        string
		unsupported bool
	}{
		{"not nifti", func(b []byte) []byte { return []byte("hello world, not an image at all") }, "sizeof_hdr", false},
		{"truncated data", func(b []byte) []byte { return b[:len(b)-3] }, "truncated", false},
		{"truncated header", func(b []byte) []byte { return b[:100] }, "cut short", false},
		{"bad magic", func(b []byte) []byte { copy(b[344:], "xyz\x00"); return b }, "magic", false},
		{"pair", func(b []byte) []byte { copy(b[344:], "ni1\x00"); return b }, ".hdr/.img", true},
		{"4-D", func(b []byte) []byte { b[40] = 4; b[48] = 3; return b }, "volumes", true},
		{"complex", func(b []byte) []byte { b[70] = 32; return b }, "datatype 32", true},
		{"zero size", func(b []byte) []byte { b[42] = 0; return b }, "dim[1]", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".nii")
			os.WriteFile(p, tc.mutate(good()), 0o644)
			_, _, err := nifti.ReadCT(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, p, tc.want)
			}
			if errors.Is(err, source.ErrUnsupported) != tc.unsupported {
				t.Errorf("unsupported = %v, want %v (%v)", errors.Is(err, source.ErrUnsupported), tc.unsupported, err)
			}
		})
	}
}

// FuzzDecodeCT: no input may panic the reader.
func FuzzDecodeCT(f *testing.F) {
	for _, v := range []int{1, 2} {
		var b bytes.Buffer
		h := &nifti.Header{Version: v, Dim: [3]int{2, 1, 1}, Datatype: 4, Pixdim: [4]float64{-1, 1, 1, 1}, QformCode: 1, SformCode: 2,
			Quatern: [3]float64{0, 0, 1}, Srow: [3][4]float64{{1, 0, 0, 1}, {0, 1, 0, 2}, {0, 0, 1, 3}}, Slope: 1, Inter: -1024}
		nifti.Encode(&b, h, []int16{1, 2})
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, _, err := nifti.DecodeCT(bytes.NewReader(data), int64(len(data)), "fuzz.nii")
		if err == nil {
			h.Geometry()
		}
	})
}
