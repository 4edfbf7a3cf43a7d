package dicom_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest/dicom"
	"voxmine/ingest/source"
)

// TestMultiFrame reads Enhanced CT images that pydicom wrote and DCMTK
// and GDCM compressed (testdata/make_multiframe.sh): native in explicit
// and implicit VR, lossless JPEG with an offset table, split over several
// fragments with and without one, RLE, JPEG-LS and JPEG 2000. Geometry
// and HU must be what NumPy computed from the frames' positions, sorted
// as ITK sorts a series, with each frame's own rescale.
func TestMultiFrame(t *testing.T) {
	files, _ := filepath.Glob("testdata/multiframe/*.dcm")
	if len(files) < 14 {
		t.Fatalf("%d fixtures in testdata/multiframe", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dcm")
		t.Run(name, func(t *testing.T) {
			src := name
			if i := strings.Index(name, "-jpeg"); i > 0 {
				src = name[:i]
			}
			for _, suffix := range []string{"-rle-nobot", "-j2k-gdcm"} {
				src = strings.TrimSuffix(src, suffix)
			}
			var want struct {
				Shape     [3]int
				Origin    [3]float64
				Spacing   [3]float64
				Direction [9]float64
			}
			b, err := os.ReadFile(filepath.Join("testdata", "multiframe", src+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("testdata", "multiframe", src+".hu"))
			if err != nil {
				t.Fatal(err)
			}

			found, err := dicom.Format{}.Find(context.Background(), []string{f})
			if err != nil || len(found.Scans) != 1 {
				t.Fatalf("found %+v, %v", found, err)
			}
			info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
			if err != nil {
				t.Fatal(err)
			}
			g := info.Geometry
			if g.Shape != want.Shape {
				t.Fatalf("shape %v, want %v", g.Shape, want.Shape)
			}
			for i := range 3 {
				if math.Abs(g.Origin[i]-want.Origin[i]) > 1e-6 || math.Abs(g.Spacing[i]-want.Spacing[i]) > 1e-6 {
					t.Errorf("origin %v spacing %v, want %v %v", g.Origin, g.Spacing, want.Origin, want.Spacing)
					break
				}
			}
			if g.Direction != want.Direction {
				t.Errorf("direction %v, want %v", g.Direction, want.Direction)
			}
			if len(info.Files) != 1 {
				t.Errorf("files %v", info.Files)
			}
			if len(hu)*2 != len(raw) {
				t.Fatalf("%d voxels, want %d", len(hu), len(raw)/2)
			}
			for i, v := range hu {
				if w := int16(binary.LittleEndian.Uint16(raw[2*i:])); v != w {
					t.Fatalf("voxel %d (z %d): %d HU, want %d", i, i/(g.Shape[1]*g.Shape[2]), v, w)
				}
			}
		})
	}
}

// TestMultiFrameProblems: what a multi-frame file gets wrong is named.
func TestMultiFrameProblems(t *testing.T) {
	b, err := os.ReadFile("testdata/multiframe/mf-u12.dcm")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dicom.Decode(b, "mf-u12.dcm")
	if err != nil {
		t.Fatal(err)
	}
	frames, err := s.Split()
	if err != nil || len(frames) != 7 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	if !strings.Contains(frames[2].Name(), "frame 3") {
		t.Errorf("frame named %q", frames[2].Name())
	}
	// NumberOfFrames that does not match the per-frame items.
	seven := []byte("IS\x02\x007 ")
	i := strings.Index(string(b), "\x28\x00\x08\x00"+string(seven))
	if i < 0 {
		t.Fatal("NumberOfFrames not found")
	}
	bad := append([]byte(nil), b...)
	copy(bad[i+4:], "IS\x02\x005 ")
	s, err = dicom.Decode(bad, "bad.dcm")
	if err == nil {
		_, err = s.Split()
	}
	if err == nil || !strings.Contains(err.Error(), "7 per-frame functional group items for 5 frames") || !strings.Contains(err.Error(), "bad.dcm") {
		t.Errorf("frame count mismatch: %v", err)
	}
	// Truncated pixel data names the frame that is missing.
	dir := t.TempDir()
	short := filepath.Join(dir, "short.dcm")
	if err := os.WriteFile(short, b[:len(b)-3000], 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = dicom.Format{}.ReadCT(context.Background(), source.Scan{UID: "x", Format: "dicom", Files: []string{short}})
	var fe *source.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "short.dcm") {
		t.Errorf("truncated: %v", err)
	}
}
