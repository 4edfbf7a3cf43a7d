package lidc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest/dicom"
	"voxmine/ingest/lidc"
	"voxmine/internal/testenv"
	"voxmine/store"
)

func realGrid(t *testing.T) (*lidc.Read, *lidc.Grid) {
	t.Helper()
	dir := testenv.Shared(t, "realct/lidc-idri-0001")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	found, err := dicom.Format{}.Find(context.Background(), files)
	if err != nil || len(found.Scans) != 1 {
		t.Fatal(err, found)
	}
	st, err := dicom.StackOf(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	g := &lidc.Grid{Geometry: st.Geometry}
	for _, s := range st.Slices {
		g.SOPs = append(g.SOPs, s.SOPUID)
		g.Z = append(g.Z, s.Position[2])
	}
	r, err := lidc.ReadFile(filepath.Join(dir, "069.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if r.SeriesUID != found.Scans[0].UID || len(r.Sessions) != 4 {
		t.Fatalf("read of series %s with %d sessions", r.SeriesUID, len(r.Sessions))
	}
	return r, g
}

// TestConsensusMatchesLUNA16: at K = 3 the reads of LIDC-IDRI-0001 give
// LUNA16's one nodule of annotations.csv (56.208, 86.343, −115.868;
// 23.35 mm): centre within 1.5 mm, diameter within 15 %.
func TestConsensusMatchesLUNA16(t *testing.T) {
	r, g := realGrid(t)
	marks, _, err := lidc.Place(context.Background(), r, g)
	if err != nil {
		t.Fatal(err)
	}
	cs := lidc.Clusters(marks, g.Geometry, 3)
	var ann, exc []store.Finding
	for _, c := range cs {
		f := store.Finding{X: c.Centre[0], Y: c.Centre[1], Z: c.Centre[2], Diameter: c.Diameter, Class: -1}
		if c.Consensus {
			ann = append(ann, f)
		} else {
			exc = append(exc, f)
		}
	}
	for _, c := range cs {
		t.Logf("cluster: %d marks, %d readers, consensus %v, centre %.2f, diameter %.2f", len(c.Marks), c.Readers, c.Consensus, c.Centre, c.Diameter)
		for _, m := range c.Marks {
			if !m.Small {
				t.Logf("   reader %s: centre %.2f, equivalent diameter %.2f, largest in-plane %.2f, %d voxels", m.Reader, m.Centre, m.Diam, m.MaxDiam, len(m.Voxels))
			}
		}
	}
	if len(ann) != 1 {
		t.Fatalf("%d annotations at K=3, LUNA16 has 1", len(ann))
	}
	want := [3]float64{56.208, 86.343, -115.868}
	d := math.Sqrt((ann[0].X-want[0])*(ann[0].X-want[0]) + (ann[0].Y-want[1])*(ann[0].Y-want[1]) + (ann[0].Z-want[2])*(ann[0].Z-want[2]))
	if d > 1.5 {
		t.Errorf("consensus centre %.2f %.2f %.2f is %.2f mm from LUNA16's", ann[0].X, ann[0].Y, ann[0].Z, d)
	}
	t.Logf("consensus: centre %.3f mm from LUNA16's, diameter %.2f mm (LUNA16 23.35, %+.1f %%)", d, ann[0].Diameter, 100*(ann[0].Diameter/23.351-1))
	if math.Abs(ann[0].Diameter-23.351) > 0.05*23.351 {
		t.Errorf("consensus diameter %.2f mm, LUNA16's 23.35: want within 5 %%", ann[0].Diameter)
	}
	if len(exc) == 0 {
		t.Error("the small nodules and non-nodules should be excluded findings")
	}
}

// TestDecodeVariants: older messages without characteristics, exclusion
// ROIs (holes), malformed numbers, and XML that is not a read.
func TestDecodeVariants(t *testing.T) {
	const head = `<?xml version="1.0"?><LidcReadMessage xmlns="http://www.nih.gov"><ResponseHeader><SeriesInstanceUid>1.2.3</SeriesInstanceUid></ResponseHeader>`
	// LIDC edge maps list every pixel of the contour, as these do.
	square, hole := border(2, 2, 12, 12), border(5, 5, 8, 8)
	old := head + `<readingSession><servicingRadiologistID>r1</servicingRadiologistID><unblindedReadNodule><noduleID>n1</noduleID>
<roi><imageZposition>-10</imageZposition><imageSOP_UID>s1</imageSOP_UID><inclusion>TRUE</inclusion>
` + square + `</roi>
<roi><imageZposition>-10</imageZposition><imageSOP_UID>s1</imageSOP_UID><inclusion>FALSE</inclusion>
` + hole + `</roi>
</unblindedReadNodule></readingSession></LidcReadMessage>`
	r, err := lidc.Decode(strings.NewReader(old), "old.xml")
	if err != nil || r.SeriesUID != "1.2.3" || len(r.Sessions) != 1 || r.Sessions[0].Nodules[0].Chars != nil {
		t.Fatalf("%v %+v", err, r)
	}
	g := &lidc.Grid{Geometry: store.Geometry{Shape: [3]int{1, 20, 20}, Spacing: [3]float64{1, 1, 1}, Direction: store.Identity}, SOPs: []string{"s1"}, Z: []float64{-10}}
	marks, _, err := lidc.Place(context.Background(), r, g)
	if err != nil {
		t.Fatal(err)
	}
	// An 11×11 square (121 pixels) less a 4×4 hole (16).
	// The square's inside (9², its outline left out, as pylidc's masks
	// do) less the hole's inside (2²: the hole's outline stays).
	if n := len(marks[0].Voxels); n != 81-4 {
		t.Errorf("%d voxels, want 77: the square's inside less the hole's", n)
	}
	for _, tc := range []struct{ name, xml string }{
		{"bad number", strings.Replace(old, "<xCoord>12</xCoord>", "<xCoord>twelve</xCoord>", 1)},
		{"truncated", old[:len(old)/2]},
	} {
		r, err := lidc.Decode(strings.NewReader(tc.xml), tc.name+".xml")
		if err == nil {
			_, _, err = lidc.Place(context.Background(), r, g)
		}
		if err == nil || !strings.Contains(err.Error(), tc.name+".xml") {
			t.Errorf("%s: got %v, want an error naming the file", tc.name, err)
		}
	}
	// A contour on a slice the series does not have is left out and said;
	// the read's other marks still count (the whole read was lost before).
	r, err = lidc.Decode(strings.NewReader(strings.Replace(strings.ReplaceAll(old, "s1", "s9"), "-10", "-99", -1)), "missing.xml")
	if err != nil {
		t.Fatal(err)
	}
	placed, unplaced, err := lidc.Place(context.Background(), r, g)
	if err != nil || len(unplaced) == 0 || !strings.Contains(unplaced[0], "no slice at z") {
		t.Errorf("missing slice: %v, unplaced %v: want the contour said", err, unplaced)
	}
	if len(placed) >= len(marks) {
		t.Errorf("missing slice: %d marks placed, want fewer than %d", len(placed), len(marks))
	}
	if _, err := lidc.Decode(strings.NewReader(`<?xml version="1.0"?><other/>`), "x.xml"); !errors.Is(err, lidc.ErrNotLIDC) {
		t.Errorf("another XML: %v, want ErrNotLIDC", err)
	}
}

// FuzzDecode: no XML may panic the parser or the placing of its marks.
func FuzzDecode(f *testing.F) {
	f.Add(`<LidcReadMessage><ResponseHeader><SeriesInstanceUid>1</SeriesInstanceUid></ResponseHeader><readingSession><unblindedReadNodule><roi><imageZposition>0</imageZposition><edgeMap><xCoord>1</xCoord><yCoord>1</yCoord></edgeMap><edgeMap><xCoord>3</xCoord><yCoord>3</yCoord></edgeMap></roi></unblindedReadNodule><nonNodule><imageZposition>0</imageZposition><locus><xCoord>2</xCoord><yCoord>2</yCoord></locus></nonNodule></readingSession></LidcReadMessage>`)
	g := &lidc.Grid{Geometry: store.Geometry{Shape: [3]int{2, 8, 8}, Spacing: [3]float64{1, 1, 1}, Direction: store.Identity}, SOPs: []string{"a", "b"}, Z: []float64{0, 1}}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := lidc.Decode(strings.NewReader(s), "f.xml")
		if err != nil {
			return
		}
		marks, _, err := lidc.Place(context.Background(), r, g)
		if err == nil && len(marks) < 50 {
			lidc.Clusters(marks, g.Geometry, 3)
		}
	})
}

// border is the edge map of a rectangle's outline, pixel by pixel.
func border(x0, y0, x1, y1 int) string {
	var b strings.Builder
	add := func(x, y int) { fmt.Fprintf(&b, "<edgeMap><xCoord>%d</xCoord><yCoord>%d</yCoord></edgeMap>", x, y) }
	for x := x0; x <= x1; x++ {
		add(x, y0)
	}
	for y := y0 + 1; y <= y1; y++ {
		add(x1, y)
	}
	for x := x1 - 1; x >= x0; x-- {
		add(x, y1)
	}
	for y := y1 - 1; y > y0; y-- {
		add(x0, y)
	}
	return b.String()
}
