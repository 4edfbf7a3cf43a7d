package lidc_test

import (
	"context"
	"math"
	"testing"

	"voxmine/ingest/lidc"
	"voxmine/store/grid"
)

// TestHostileContoursAreBounded: contours a file controls cost what the
// slice holds, not what the file says. A square drawn at ±10⁶ pixels took
// 4·10¹² steps to fill, and 200,000 points on a circle 2·10¹⁰ pairs to
// measure; both now finish at once (a hang fails the test by its timeout).
func TestHostileContoursAreBounded(t *testing.T) {
	g := &lidc.Grid{Geometry: grid.Geometry{Shape: [3]int{2, 64, 64}, Spacing: [3]float64{0.7, 0.7, 2.5}, Direction: grid.Identity},
		SOPs: []string{"s0", "s1"}, Z: []float64{0, 2.5}}
	huge := [][2]int{{-1e6, -1e6}, {1e6, -1e6}, {1e6, 1e6}, {-1e6, 1e6}}
	var circle [][2]int
	for i := range 200000 {
		a := 2 * math.Pi * float64(i) / 200000
		circle = append(circle, [2]int{32 + int(math.Round(20*math.Cos(a))), 32 + int(math.Round(20*math.Sin(a)))})
	}
	r := &lidc.Read{Path: "hostile.xml", Sessions: []lidc.Session{{Reader: "r1", Nodules: []lidc.Mark{
		{ID: "huge", Chars: &lidc.Characteristics{}, ROIs: []lidc.ROI{{Z: 0, SOP: "s0", Inclusion: true, Edge: huge}}},
		{ID: "circle", Chars: &lidc.Characteristics{}, ROIs: []lidc.ROI{{Z: 2.5, SOP: "s1", Inclusion: true, Edge: circle}}},
	}}}}
	marks, _, err := lidc.Place(context.Background(), r, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 2 {
		t.Fatalf("%d marks, want 2", len(marks))
	}
	for _, m := range marks {
		switch m.ID {
		case "huge":
			if len(m.Voxels) != 64*64 {
				t.Errorf("the ±10⁶ square covers %d voxels of the 64² slice, want all", len(m.Voxels))
			}
		case "circle":
			// The farthest pair of the distinct points, by brute force.
			distinct := map[[2]int]bool{}
			for _, p := range circle {
				distinct[p] = true
			}
			want := 0.0
			for a := range distinct {
				for b := range distinct {
					want = math.Max(want, math.Hypot(float64(a[0]-b[0])*0.7, float64(a[1]-b[1])*0.7))
				}
			}
			if math.Abs(m.MaxDiam-want) > 1e-9 || want < 27 {
				t.Errorf("circle's largest in-plane extent %.3f mm, want %.3f", m.MaxDiam, want)
			}
		}
	}
}
