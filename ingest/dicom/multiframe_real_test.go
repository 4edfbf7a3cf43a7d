package dicom

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"voxmine/ingest/dicom/dicomtest"
	"voxmine/ingest/source"
	"voxmine/internal/testenv"
)

// TestRealMultiFrame puts every fourth slice of the real LIDC-IDRI-0001
// series, frames in reverse order, into one Enhanced CT file laid out as
// DCMTK writes one (sequences and items of undefined length, position
// and rescale per frame, orientation and pixel spacing shared), and reads
// it back: the geometry and every HU value must be those of the
// single-frame files. testdata/make_multiframe.sh covers the other
// layouts (defined lengths, implicit VR, UN groups, compressed frames);
// by hand, the whole series converted with pydicom and then compressed
// by GDCM (JPEG 2000) and DCMTK (JPEG-LS) ingests to shards identical
// byte for byte to the single-frame series'.
func TestRealMultiFrame(t *testing.T) {
	dir := testenv.Shared(t, "realct/lidc-idri-0001")
	names, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	found, err := Format{}.Find(context.Background(), names)
	if err != nil || len(found.Scans) != 1 {
		t.Fatalf("%v: %d series", err, len(found.Scans))
	}
	st, err := StackOf(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	var picked []*Slice
	var files []string
	for i := 0; i < len(st.Slices); i += 4 {
		full, err := readWhole(st.Slices[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		picked = append(picked, full)
		files = append(files, full.Path)
	}
	want, err := NewStack("picked", slices.Clone(picked))
	if err != nil {
		t.Fatal(err)
	}
	wantHU, err := want.ReadCT(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(picked)
	path := filepath.Join(t.TempDir(), "enhanced")
	if err := os.WriteFile(path, enhanced(picked), 0o644); err != nil {
		t.Fatal(err)
	}

	scan := source.Scan{UID: "x", Format: "dicom", Files: []string{path}}
	info, hu, err := Format{}.ReadCT(context.Background(), scan)
	if err != nil {
		t.Fatal(err)
	}
	g, w := info.Geometry, want.Geometry
	if g.Shape != w.Shape || g.Direction != w.Direction {
		t.Fatalf("geometry %+v, want %+v", g, w)
	}
	for i := range 3 {
		if math.Abs(g.Origin[i]-w.Origin[i]) > 1e-6 || math.Abs(g.Spacing[i]-w.Spacing[i]) > 1e-6 {
			t.Fatalf("geometry %+v, want %+v", g, w)
		}
	}
	if !slices.Equal(hu, wantHU) {
		t.Fatal("HU differ from the single-frame files'")
	}
	t.Logf("%d frames of %d×%d from %d files, spacing %.4g mm", g.Shape[0], g.Shape[2], g.Shape[1], len(files), g.Spacing[2])

	// One frame fewer than NumberOfFrames says: the file is named.
	b := enhanced(picked)
	bad := filepath.Join(t.TempDir(), "cut")
	if err := os.WriteFile(bad, b[:len(b)-len(picked[0].pixels)], 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Format{}.ReadCT(context.Background(), source.Scan{UID: "x", Format: "dicom", Files: []string{bad}})
	if err == nil || !strings.Contains(err.Error(), "cut") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a frame short: %v", err)
	}
}

// enhanced encodes single-frame slices (with their native pixels) as one
// Enhanced CT image, explicit VR little endian, with sequences and items
// of undefined length.
func enhanced(frames []*Slice) []byte {
	f := frames[0]
	e := &dicomtest.Encoder{Order: binary.LittleEndian, Explicit: true}
	var w bytes.Buffer
	u16 := func(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
	tag := func(t uint32) {
		w.Write(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, uint16(t>>16)), uint16(t)))
	}
	open := func(t uint32) { // a sequence and its first item
		tag(t)
		e.Header(&w, "SQ", undefinedLength)
	}
	item := func(body func()) {
		tag(tagItem)
		w.Write(binary.LittleEndian.AppendUint32(nil, undefinedLength))
		body()
		tag(tagItemDelim)
		w.Write(make([]byte, 4))
	}
	end := func() {
		tag(tagSeqDelim)
		w.Write(make([]byte, 4))
	}
	macro := func(t uint32, elems ...func()) {
		open(t)
		item(func() {
			for _, el := range elems {
				el()
			}
		})
		end()
	}
	put := func(t uint32, vr, v string) func() { return func() { e.Put(&w, t, vr, []byte(v)) } }
	ds := func(v ...float64) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strings.Join(parts, `\`)
	}

	e.Put(&w, 0x00080016, "UI", []byte("1.2.840.10008.5.1.4.1.1.2.1"))
	e.Put(&w, tagModality, "CS", []byte("CT"))
	e.Put(&w, tagSeriesUID, "UI", []byte(f.SeriesUID))
	e.Put(&w, tagSamplesPerPixel, "US", u16(1))
	e.Put(&w, tagNumberOfFrames, "IS", []byte(strconv.Itoa(len(frames))))
	e.Put(&w, tagRows, "US", u16(f.Rows))
	e.Put(&w, tagColumns, "US", u16(f.Columns))
	e.Put(&w, tagBitsAllocated, "US", u16(f.BitsAllocated))
	e.Put(&w, tagBitsStored, "US", u16(f.BitsStored))
	e.Put(&w, tagHighBit, "US", u16(f.HighBit))
	e.Put(&w, tagPixelRep, "US", u16(f.PixelRepresentation))
	open(tagSharedGroups)
	item(func() {
		macro(tagPixelMeasures, put(tagPixelSpacing, "DS", ds(f.PixelSpacing[:]...)))
		macro(tagPlaneOrient, put(tagOrientation, "DS", ds(f.Orientation[:]...)))
	})
	end()
	open(tagPerFrameGroups)
	var pixels []byte
	for _, s := range frames {
		item(func() {
			macro(tagPlanePosition, put(tagPosition, "DS", ds(s.Position[:]...)))
			macro(tagValueTransform, put(tagIntercept, "DS", ds(s.Intercept)), put(tagSlope, "DS", ds(s.Slope)))
		})
		pixels = append(pixels, s.pixels[:s.Rows*s.Columns*s.BitsAllocated/8]...)
	}
	end()
	e.Put(&w, tagPixelData, "OW", pixels)

	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	e.Put(&out, tagTransferSyntax, "UI", []byte(explicitLE))
	out.Write(w.Bytes())
	return out.Bytes()
}
