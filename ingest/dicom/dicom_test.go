package dicom_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"voxmine/ingest/dicom"
	"voxmine/ingest/dicom/dicomtest"
	"voxmine/ingest/source"
	"voxmine/internal/testenv"
)

// slice returns the header of slice k of a small test series.
func slice(series string, k int, z float64) *dicomtest.Slice {
	return &dicomtest.Slice{
		SeriesUID: series, StudyUID: "1.2.3", SOPUID: fmt.Sprintf("%s.%d", series, k), SeriesNumber: "1",
		InstanceNumber: fmt.Sprint(k + 1), Modality: "CT", ImageType: []string{"ORIGINAL", "PRIMARY", "AXIAL"},
		Rows: 4, Columns: 5, PixelSpacing: [2]float64{0.5, 0.5}, BitsAllocated: 16, BitsStored: 16,
		PixelRepresentation: 1, Slope: 1, Intercept: -1024,
		Position: [3]float64{-10, -20, z}, Orientation: [6]float64{1, 0, 0, 0, 1, 0},
	}
}

// write writes s with every pixel of value v (stored) into dir/name.
func write(t *testing.T, dir, name string, s *dicomtest.Slice, v int32) string {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	px := make([]int32, s.Rows*s.Columns)
	for i := range px {
		px[i] = v
	}
	var b bytes.Buffer
	if err := dicomtest.Encode(&b, s, "1.2.840.10008.1.2.1", px); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func files(t *testing.T, dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

func TestFindGroupsAndSkips(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	// Series 1.1 spans two folders; series 1.2 shares folder a.
	for k := range 4 {
		write(t, []string{a, b}[k%2], fmt.Sprintf("s1_%d", k), slice("1.1", k, float64(k)), int32(k))
		write(t, a, fmt.Sprintf("s2_%d.dcm", k), slice("1.2", k, float64(k)), 0)
	}
	loc := slice("1.1", 9, 50)
	loc.ImageType = []string{"ORIGINAL", "PRIMARY", "LOCALIZER"}
	write(t, a, "scout", loc, 0)
	mr := slice("1.3", 0, 0)
	mr.Modality = "MR"
	write(t, b, "mr", mr, 0)
	// A dose report in the CT series: no ImagePositionPatient (the tag is
	// renamed to the retired (0020,0030) in the written file).
	dose := write(t, b, "dose", slice("1.1", 20, 0), 0)
	db, _ := os.ReadFile(dose)
	at := bytes.Index(db, []byte("\x20\x00\x32\x00DS"))
	if at < 0 {
		t.Fatal("no ImagePositionPatient written")
	}
	db[at+2] = 0x30
	os.WriteFile(dose, db, 0o644)
	// A series of nothing but such images is left out as a whole, said once.
	for k := range 2 {
		p := write(t, b, fmt.Sprintf("shot%d", k), slice("1.4", k, 0), 0)
		pb, _ := os.ReadFile(p)
		pb[bytes.Index(pb, []byte("\x20\x00\x32\x00DS"))+2] = 0x30
		os.WriteFile(p, pb, 0o644)
	}
	os.WriteFile(filepath.Join(a, "notes.txt"), []byte("not dicom"), 0o644)
	found, err := dicom.Format{}.Find(context.Background(), files(t, a, b))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range found.Scans {
		got[s.UID] = len(s.Files)
	}
	if !strings.Contains(fmt.Sprint(found.Skipped), "series 1.4: none of its 2 images can be placed") {
		t.Errorf("skipped %v: want series 1.4 said once as a whole", found.Skipped)
	}
	if len(got) != 2 || got["1.1"] != 4 || got["1.2"] != 4 {
		t.Errorf("series %v, want 1.1 and 1.2 with 4 files each", got)
	}
	reasons := fmt.Sprint(found.Skipped)
	if !strings.Contains(reasons, "LOCALIZER") || !strings.Contains(reasons, "modality MR") || strings.Contains(reasons, "notes.txt") ||
		!strings.Contains(reasons, "dose") || !strings.Contains(reasons, "no ImagePositionPatient") {
		t.Errorf("skipped %v: want the localizer, the MR series and the dose report, not the text file", found.Skipped)
	}
	for _, u := range found.Used {
		if strings.HasSuffix(u, "notes.txt") {
			t.Error("a file that is not DICOM was taken")
		}
	}
}

func TestSeriesProblems(t *testing.T) {
	tests := []struct {
		name  string
		make  func(t *testing.T, dir string)
		want  string // in the error; empty: no error
		notes string // in the notes
	}{
		{"the same image twice", func(t *testing.T, dir string) {
			for k := range 6 {
				write(t, dir, fmt.Sprint(k), slice("9.1", k, 2.5*float64(k)), int32(50*k))
			}
			write(t, dir, "3-copy", slice("9.1", 3, 7.5), 150)
		}, "", "read once"},
		{"missing slice", func(t *testing.T, dir string) {
			for k, z := range []float64{0, 2.5, 5, 10, 12.5} {
				write(t, dir, fmt.Sprint(k), slice("9.1", k, z), int32(100*k))
			}
		}, "", "uneven slice spacing"},
		{"slices missing", func(t *testing.T, dir string) {
			for k, z := range []float64{0, 2.5, 5, 15, 17.5} { // 10 mm: three slices lost
				write(t, dir, fmt.Sprint(k), slice("9.1", k, z), 0)
			}
		}, "about 3 slices are missing", ""},
		{"duplicate position", func(t *testing.T, dir string) {
			for k, z := range []float64{0, 2.5, 2.5, 5} {
				write(t, dir, fmt.Sprint(k), slice("9.1", k, z), 0)
			}
		}, "duplicate slice position", ""},
		{"gantry tilt", func(t *testing.T, dir string) {
			for k := range 4 {
				s := slice("9.1", k, 2.5*float64(k))
				s.Position[1] += 0.6 * float64(k) // sheared stack
				s.GantryTilt = 13.5
				write(t, dir, fmt.Sprint(k), s, 0)
			}
		}, "gantry tilt", ""},
		{"mixed sizes", func(t *testing.T, dir string) {
			for k := range 3 {
				s := slice("9.1", k, float64(k))
				if k == 2 {
					s.Rows = 3
				}
				write(t, dir, fmt.Sprint(k), s, 0)
			}
		}, "mixed sizes", ""},
		{"truncated file", func(t *testing.T, dir string) {
			for k := range 3 {
				p := write(t, dir, fmt.Sprint(k), slice("9.1", k, float64(k)), 0)
				if k == 1 {
					b, _ := os.ReadFile(p)
					os.WriteFile(p, b[:len(b)-7], 0o644)
				}
			}
		}, "truncated", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.make(t, dir)
			found, err := dicom.Format{}.Find(context.Background(), files(t, dir))
			if err != nil || len(found.Scans) != 1 {
				t.Fatalf("find: %v, %d series", err, len(found.Scans))
			}
			info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
			if tc.want != "" {
				var fe *source.FormatError
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "9.1") || !errors.As(err, &fe) {
					t.Fatalf("got %v, want a FormatError naming the series and saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(info.Notes, " "), tc.notes) {
				t.Errorf("notes %v, want %q", info.Notes, tc.notes)
			}
			// Six slices of 2.5 mm: the missing one at 7.5 mm lies halfway
			// between 5 (200) and 10 (300) mm, 250 stored, −774 HU; the
			// copy of the slice at 7.5 mm is read once.
			g := info.Geometry
			plane := g.Shape[1] * g.Shape[2]
			want3, want5 := int16(250-1024), int16(400-1024)
			if tc.name == "the same image twice" {
				want3, want5 = 150-1024, 250-1024
			}
			if g.Shape[0] != 6 || g.Spacing[2] != 2.5 || hu[3*plane] != want3 || hu[5*plane] != want5 {
				t.Errorf("shape %v spacing %v, slice 3 %d, slice 5 %d; want 6 slices of 2.5 mm, %d, %d", g.Shape, g.Spacing, hu[3*plane], hu[5*plane], want3, want5)
			}
		})
	}
}

// TestRealJPEG2000 reads the real JPEG 2000 series, whose
// SeriesInstanceUID (and StudyInstanceUID) the anonymiser left empty: it
// is found as one series under the folder-based fallback uid, and its
// slices decode (their samples are checked against OpenJPEG's in
// TestRealJPEG2000Pixels) into HU: padding at −1024 in the corners, air,
// soft tissue and bone.
func TestRealJPEG2000(t *testing.T) {
	testenv.SkipUnderRace(t) // decoding is compute-heavy; the full-speed pass runs it
	dir := realCT(t, "upper-abdomen-j2k")
	found, err := dicom.Format{}.Find(context.Background(), files(t, dir))
	if err != nil || len(found.Scans) != 1 || len(found.Scans[0].Files) != 20 {
		t.Fatalf("%v: %+v", err, found)
	}
	if uid := found.Scans[0].UID; uid != "folder-upper-abdomen-j2k.series-0" {
		t.Errorf("fallback uid %q", uid)
	}
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.Geometry.Shape != [3]int{20, 512, 512} || len(hu) != 20*512*512 {
		t.Fatalf("geometry %+v, %d values", info.Geometry, len(hu))
	}
	var air, soft, bone int
	for _, v := range hu {
		switch {
		case v < -900:
			air++
		case v > -100 && v < 100:
			soft++
		case v > 300:
			bone++
		}
	}
	t.Logf("HU %d..%d: air %d, soft tissue %d, bone %d", slices.Min(hu), slices.Max(hu), air, soft, bone)
	if slices.Min(hu) < -1024 || air == 0 || soft < len(hu)/10 || bone == 0 {
		t.Errorf("HU range %d..%d, air %d, soft tissue %d, bone %d: not a CT", slices.Min(hu), slices.Max(hu), air, soft, bone)
	}
}

func realCT(t *testing.T, rel string) string {
	t.Helper()
	return testenv.Shared(t, "realct/"+rel)
}

// FuzzParse: no file may panic the header parser or the pixel decoder.
func FuzzParse(f *testing.F) {
	for _, ts := range []string{"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"} {
		var b bytes.Buffer
		s := slice("7.7", 0, 0)
		s.Rows, s.Columns = 2, 2
		dicomtest.Encode(&b, s, ts, []int32{1, -2, 3, 4})
		f.Add(b.Bytes())
	}
	// and compressed ones: lossless JPEG, RLE, JPEG 2000
	for _, name := range []string{"u12-jpegll-sv4", "s16-rle-dcmtk", "u8-j2k-gdcm"} {
		b, err := os.ReadFile(filepath.Join("testdata", "compressed", name+".dcm"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// and multi-frame ones: fragments without an offset table, UN groups
	for _, name := range []string{"mf-u12-jpegll-frag-nobot", "mf-s16-implicit-j2k-gdcm", "mf-s16-implicit"} {
		b, err := os.ReadFile(filepath.Join("testdata", "multiframe", name+".dcm"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// The files ingest refused as hostile stay as seeds.
	for _, rows := range []int{65535, 60000} {
		var b bytes.Buffer
		s := slice("7.8", 0, 0)
		s.Rows, s.Columns = 2, 2
		dicomtest.Encode(&b, s, "1.2.840.10008.1.2.1", make([]int32, 4))
		data := b.Bytes()
		for _, tag := range [][]byte{{0x28, 0, 0x10, 0, 'U', 'S', 2, 0}, {0x28, 0, 0x11, 0, 'U', 'S', 2, 0}} {
			if i := bytes.Index(data, tag); i >= 0 {
				data[i+8], data[i+9] = byte(rows), byte(rows>>8)
			}
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := dicom.Decode(data, "fuzz.dcm")
		if err == nil && s.Rows*s.Columns <= 1<<20 {
			if frames, err := s.Split(); err == nil {
				for _, fr := range frames[:min(len(frames), 16)] {
					fr.HU(make([]int16, s.Rows*s.Columns))
				}
			}
		}
		// The whole path ingest takes, with its budget in force: the
		// header's grid is checked before ReadCT allocates it, and the
		// read must end (a hang fails here rather than stalling the fuzzer).
		path := filepath.Join(dir, "fuzz.dcm")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		found, err := dicom.Format{}.Find(ctx, []string{path})
		if err != nil || len(found.Scans) != 1 {
			return
		}
		info, err := dicom.Format{}.Info(ctx, found.Scans[0])
		if err != nil || info.Geometry.Voxels() <= 0 || info.Geometry.Voxels() > 1<<22 {
			return // ingest's budget refuses it before reading
		}
		if _, _, err := (dicom.Format{}).ReadCT(ctx, found.Scans[0]); errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ReadCT of a %v grid ran past 20 s", info.Geometry.Shape)
		}
	})
}

// TestEmptyOptionalElements: real archives hold empty type 2 and 3
// elements (an empty PixelPaddingValue was refused: "0 bytes for a US
// value"); they read as if absent.
func TestEmptyOptionalElements(t *testing.T) {
	dir := t.TempDir()
	for k := range 3 {
		p := write(t, dir, fmt.Sprintf("%d.dcm", k), slice("1.2.9", k, float64(k)), 40)
		b, _ := os.ReadFile(p)
		intercept := bytes.Index(b, []byte{0x28, 0x00, 0x52, 0x10}) // (0028,1052): the padding goes before it
		if intercept < 0 {
			t.Fatal("no RescaleIntercept")
		}
		empty := []byte{0x28, 0x00, 0x20, 0x01, 'U', 'S', 0, 0, // PixelPaddingValue, 0 bytes
			0x28, 0x00, 0x21, 0x01, 'U', 'S', 0, 0} // PixelPaddingRangeLimit, 0 bytes
		b = append(b[:intercept:intercept], append(empty, b[intercept:]...)...)
		os.WriteFile(p, b, 0o644)
	}
	found, err := dicom.Format{}.Find(context.Background(), files(t, dir))
	if err != nil || len(found.Scans) != 1 {
		t.Fatalf("%v, %+v", err, found)
	}
	_, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	if hu[0] != 40-1024 {
		t.Errorf("HU %d, want %d", hu[0], 40-1024)
	}
}

// TestDeflateBomb: a deflated slice of a few hundred KB that inflates to
// 250 MB is refused by its ratio, not read into memory (eight of them
// parsed at once took 3.6 GB before).
func TestDeflateBomb(t *testing.T) {
	var b bytes.Buffer
	s := slice("7.9", 0, 0)
	if err := dicomtest.Encode(&b, s, "1.2.840.10008.1.2.1.99", make([]int32, s.Rows*s.Columns)); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	// The deflated dataset follows the meta group, whose length (0002,0000)
	// is the first element after the preamble and "DICM".
	start := 132 + 12 + int(binary.LittleEndian.Uint32(data[132+8:]))
	head := data[:start]
	body, err := io.ReadAll(flate.NewReader(bytes.NewReader(data[start:])))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(body)
	w.Write(make([]byte, 250<<20))
	w.Close()
	bomb := append(append([]byte(nil), head...), z.Bytes()...)
	t.Logf("%d bytes inflating to %d MB", len(bomb), (len(body)+250<<20)>>20)
	_, err = dicom.Decode(bomb, "bomb.dcm")
	if err == nil || !strings.Contains(err.Error(), "inflates past") {
		t.Errorf("a deflate bomb: %v, want it refused by its ratio", err)
	}
}
