package lungseg_test

import (
	"context"
	"math"
	"runtime"
	"sync"
	"testing"

	"voxmine/ingest/lungseg"
	"voxmine/ingest/resample"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/store"
)

// TestSegmentLungsQuality segments full-size synthetic scans and compares
// with the generator's masks: Dice ≥ 0.97, and every nodule touching the
// pleura inside the computed lung.
func TestSegmentLungsQuality(t *testing.T) {
	testenv.SkipUnderRace(t)
	if testing.Short() {
		t.Skip("full-size scans")
	}
	segmentPhantoms(t, synth.Options{N: 3, Seed: 5, Workers: 2}, 0.97)
}

// TestSegmentLungsQualityHard: on the harder phantom (lungs cut by the top
// of the volume, stomach and bowel gas below them) the computed lungs still
// match the truth (Dice ≥ 0.99), no gas is taken for lung, and nothing is
// flagged.
func TestSegmentLungsQualityHard(t *testing.T) {
	testenv.SkipUnderRace(t)
	if testing.Short() {
		t.Skip("full-size scans")
	}
	segmentPhantoms(t, synth.Options{N: 2, Seed: 6, Workers: 2, Hard: true}, 0.99)
}

// segmentPhantoms draws full-size phantoms in memory (synth.Draw: the
// scans Generate would write, without writing, compressing and reading
// them), puts them on the 1 mm grid and segments them.
func segmentPhantoms(t *testing.T, o synth.Options, minDice float64) {
	pleural := 0
	type drawn struct {
		sc *synth.ScanTruth
		hu []int16
		m  []uint8
	}
	scans := make([]drawn, o.N)
	var wg sync.WaitGroup
	for i := range o.N {
		wg.Go(func() { // drawing is single-threaded: draw the phantoms side by side
			sc, hu, m := synth.Draw(o, i)
			scans[i] = drawn{sc, hu, m}
		})
	}
	wg.Wait()
	for i := range scans {
		sc, hu, m := scans[i].sc, scans[i].hu, scans[i].m
		scans[i] = drawn{}
		src := sc.Geometry()
		grid := resample.Grid1mm(src)
		vol, err := resample.Linear(context.Background(), hu, src, grid, -1000, 2)
		if err != nil {
			t.Fatal(err)
		}
		truth, err := resample.Nearest(context.Background(), m, src, grid, 2)
		if err != nil {
			t.Fatal(err)
		}
		lungs, err := lungseg.Segment(context.Background(), vol, grid, runtime.GOMAXPROCS(0))
		if err != nil {
			t.Fatal(err)
		}
		got := lungs.Labels
		d := lungseg.Dice(got, truth)
		gas := 0
		for i, l := range got {
			if store.IsLung(l) && truth[i] == 0 && vol[i] < -900 {
				gas++
			}
		}
		t.Logf("%s (mirrored %v, %d nodules): Dice %.4f, gas labelled lung %d mm³, flags %v", sc.UID, sc.Mirrored, len(sc.Nodules), d, gas, lungs.Flags)
		if d < minDice {
			t.Errorf("%s: Dice %.4f < %.2f", sc.UID, d, minDice)
		}
		if len(lungs.Flags) > 0 {
			t.Errorf("%s: a plausible phantom flagged: %v", sc.UID, lungs.Flags)
		}
		if gas > 1000 {
			t.Errorf("%s: %d mm³ of gas that is not lung labelled lung", sc.UID, gas)
		}
		airway := 0
		for _, l := range got {
			if l == store.LabelAirway {
				airway++
			}
		}
		if airway < 1000 {
			t.Errorf("%s: airway of %d voxels: the trachea was not found", sc.UID, airway)
		}
		shape := grid.Shape
		for _, n := range sc.Nodules {
			c := sc.VoxelZYX(n.World, 1)
			l := got[(c[0]*shape[1]+c[1])*shape[2]+c[2]]
			if cutByFOV(vol, shape, c, n.Diameter/2+3, sc.Pad) {
				t.Logf("%s: nodule at %v lies at the edge of the field of view: not in the data", sc.UID, c)
				continue
			}
			if n.Pleural {
				pleural++
			}
			if !store.IsLung(l) {
				t.Errorf("%s: nodule of %.1f mm at %v (pleural %v) has label %d", sc.UID, n.Diameter, c, n.Pleural, l)
			}
		}
	}
	if pleural == 0 {
		t.Error("no nodule touches the pleura in this dataset: pick another seed")
	}
}

// cutByFOV tells whether padding (below −1200 HU, or a few pixels of the
// scan's padding value pad) lies within r mm of voxel c in its slice.
func cutByFOV(vol []int16, shape [3]int, c [3]int, r float64, pad int16) bool {
	ri := int(math.Ceil(r))
	n := 0
	for y := c[1] - ri; y <= c[1]+ri; y++ {
		for x := c[2] - ri; x <= c[2]+ri; x++ {
			if y < 0 || x < 0 || y >= shape[1] || x >= shape[2] {
				return true
			}
			if v := vol[(c[0]*shape[1]+y)*shape[2]+x]; v < -1200 {
				return true
			} else if v == pad {
				n++
			}
		}
	}
	return n >= 5
}

// TestPlausibilityFlags: a mask file is judged by the rule computed masks
// are held to, the volume bound only where the scan shows the lungs whole.
func TestPlausibilityFlags(t *testing.T) {
	shape := [3]int{100, 100, 200} // 20,000 voxels a slice
	plane := shape[1] * shape[2]
	mask := func(lungs ...[3]int) []uint8 { // each: label, first slice, last slice
		m := make([]uint8, shape[0]*plane)
		for _, l := range lungs {
			for z := l[1]; z <= l[2]; z++ {
				for i := range plane / 2 {
					m[z*plane+i+(l[0]-3)*plane/2] = uint8(l[0])
				}
			}
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		m     []uint8
		flags int
	}{
		{"two lungs, 1.4 L, whole", mask([3]int{3, 10, 79}, [3]int{4, 10, 79}), 0},
		{"one lung, 0.7 L, whole", mask([3]int{3, 10, 79}), 2},
		{"one lung, 0.7 L, cut", mask([3]int{3, 0, 69}), 1},
		{"two lungs, 0.4 L, whole", mask([3]int{3, 40, 59}, [3]int{4, 40, 59}), 1},
		{"two lungs, 0.4 L, cut by the first slice", mask([3]int{3, 0, 19}, [3]int{4, 0, 19}), 0},
		{"two lungs, 0.4 L, cut by the last slice", mask([3]int{3, 80, 99}, [3]int{4, 80, 99}), 0},
		{"one lung, 0.4 L, whole", mask([3]int{3, 30, 69}), 2},
		{"nothing", mask(), 2},
	} {
		if f := lungseg.PlausibilityFlags(tc.m, shape); len(f) != tc.flags {
			t.Errorf("%s: %d flags %v, want %d", tc.name, len(f), f, tc.flags)
		}
	}
}

// TestSegmentLungsQualitySmallFOV: a reconstruction circle smaller than the
// chest cuts both lungs at the side; the lungs inside it are still found.
func TestSegmentLungsQualitySmallFOV(t *testing.T) {
	testenv.SkipUnderRace(t)
	if testing.Short() {
		t.Skip("full-size scans")
	}
	segmentPhantoms(t, synth.Options{N: 2, Seed: 11, Workers: 2, SmallFOV: true}, 0.97)
}

// TestSegmentLungsQualityPadding: padding of a value real air (−1024) or
// tissue (0) can hold, outside a reconstruction circle that cuts the lungs
// or that holds the whole chest, is told from air and tissue by its shape.
// Before, the cut lungs were lost to the outside (Dice 0.12) and the air
// around the chest, walled in by padding of 0, became a 15 L lung.
func TestSegmentLungsQualityPadding(t *testing.T) {
	testenv.SkipUnderRace(t)
	if testing.Short() {
		t.Skip("full-size scans")
	}
	for _, tc := range []struct {
		name string
		o    synth.Options
	}{
		{"cut by the circle, padding -1024", synth.Options{N: 2, Seed: 11, Workers: 2, SmallFOV: true, Padding: []int16{-1024}}},
		{"whole chest in the circle, padding 0", synth.Options{N: 1, Seed: 5, Workers: 2, Padding: []int16{0}}},
	} {
		t.Run(tc.name, func(t *testing.T) { segmentPhantoms(t, tc.o, 0.98) })
	}
}
