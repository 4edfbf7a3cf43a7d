package lungseg_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"voxmine/ingest/dicom"
	"voxmine/ingest/lungseg"
	"voxmine/ingest/nifti"
	"voxmine/ingest/resample"
	"voxmine/ingest/source"
	"voxmine/internal/itkgolden"
	"voxmine/internal/testenv"
	"voxmine/store"
)

// realLungs reads a real scan, resamples it to 1 mm and segments its lungs.
func realLungs(t *testing.T, hu []int16, g store.Geometry) ([]int16, *lungseg.Lungs, store.Geometry) {
	t.Helper()
	grid := resample.Grid1mm(g)
	vol, err := resample.Linear(context.Background(), hu, g, grid, -1000, runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	lungs, err := lungseg.Segment(context.Background(), vol, grid, runtime.GOMAXPROCS(0))
	if err != nil {
		t.Fatal(err)
	}
	return vol, lungs, grid
}

// readLIDC reads the real LIDC-IDRI-0001 series: its HU as stored and
// its grid.
func readLIDC(t *testing.T) ([]int16, store.Geometry) {
	t.Helper()
	dir := itkgolden.RealCT(t, "lidc-idri-0001")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	found, err := dicom.Format{}.Find(context.Background(), files)
	if err != nil || len(found.Scans) != 1 {
		t.Fatalf("%v: %d series in %s", err, len(found.Scans), dir)
	}
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	return hu, info.Geometry
}

func count(lab []uint8, keep func(uint8) bool) int {
	n := 0
	for _, l := range lab {
		if keep(l) {
			n++
		}
	}
	return n
}

// TestRealLungsAbdomen: on the abdominal CT with lung bases, the computed
// lungs match TotalSegmentator's lobes (Dice ≥ 0.85) and take in at most 5 %
// of their volume of gas that is not lung (stomach, bowel).
func TestRealLungsAbdomen(t *testing.T) {
	testenv.SkipUnderRace(t)
	path := itkgolden.RealCT(t, "abdomen-lung-bases/ct.nii.gz")
	h, hu, err := nifti.ReadCT(path)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := h.Geometry()
	vol, lungs, grid := realLungs(t, hu, g)
	lab := lungs.Labels
	// The reference: the union of the five lobes, nearest-neighbour to 1 mm.
	ref := make([]uint8, g.Voxels())
	for _, lobe := range []string{"lung_upper_lobe_left", "lung_lower_lobe_left", "lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right"} {
		_, m, err := nifti.ReadLabels(filepath.Join(filepath.Dir(path), lobe+".nii.gz"))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range m {
			if v > 0 {
				ref[i] = store.LabelLungA
			}
		}
	}
	ref1, err := resample.Nearest(context.Background(), ref, g, grid, 2)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]uint8, len(lab))
	gas := 0
	for i, l := range lab {
		if store.IsLung(l) {
			got[i] = store.LabelLungA
			if ref1[i] == 0 && vol[i] < -500 {
				gas++
			}
		}
	}
	refN := count(ref1, func(l uint8) bool { return l != 0 })
	d := lungseg.Dice(got, ref1)
	t.Logf("lungs %.3f L (reference %.3f L), Dice %.3f, gas outside the reference labelled lung %.3f L (%.1f %%), flags %v",
		float64(count(lab, store.IsLung))/1e6, float64(refN)/1e6, d, float64(gas)/1e6, 100*float64(gas)/float64(refN), lungs.Flags)
	if len(lungs.Flags) > 0 {
		t.Errorf("flags %v: the lung bases are real lungs, cut by the volume's top face", lungs.Flags)
	}
	if d < 0.85 {
		t.Errorf("Dice %.3f against TotalSegmentator's lungs, want ≥ 0.85", d)
	}
	if float64(gas) > 0.05*float64(refN) {
		t.Errorf("%.3f L of gas outside the lungs labelled lung, more than 5 %% of their %.3f L", float64(gas)/1e6, float64(refN)/1e6)
	}
}

// TestRealLungsLIDC: on the real LIDC-IDRI-0001 chest CT, the lungs hold
// 3–5 L, the LUNA16 nodule (touching the pleura) lies inside them, and the
// trachea in the top slices is not lung.
func TestRealLungsLIDC(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := itkgolden.RealCT(t, "lidc-idri-0001")
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	found, _ := dicom.Format{}.Find(context.Background(), files)
	var sc source.Scan = found.Scans[0]
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	vol, lungs, grid := realLungs(t, hu, info.Geometry)
	lab := lungs.Labels
	litres := float64(count(lab, store.IsLung)) / 1e6
	airway := count(lab, func(l uint8) bool { return l == store.LabelAirway })
	// The nodule: world (56.208, 86.343, −115.868), 23.35 mm.
	c := [3]int{int((-115.868 - grid.Origin[2]) + 0.5), int((86.343 - grid.Origin[1]) + 0.5), int((56.208 - grid.Origin[0]) + 0.5)}
	ny, nx := grid.Shape[1], grid.Shape[2]
	at := func(z, y, x int) uint8 { return lab[(z*ny+y)*nx+x] }
	t.Logf("lungs %.2f L (left/right %d/%d voxels), airway %.1f mL, nodule centre label %d, flags %v", litres,
		count(lab, func(l uint8) bool { return l == 3 }), count(lab, func(l uint8) bool { return l == 4 }), float64(airway)/1e3, at(c[0], c[1], c[2]), lungs.Flags)
	if len(lungs.Flags) > 0 {
		t.Errorf("flags %v on a normal chest CT", lungs.Flags)
	}
	// Label 3 is the patient's right lung: x grows to the patient's left.
	if xr, xl := meanX(lab, nx, 3), meanX(lab, nx, 4); !(xr < xl) {
		t.Errorf("label 3 at mean x %.0f, label 4 at %.0f: 3 must be the right lung (smaller LPS x)", xr, xl)
	}
	if litres < 3 || litres > 5 {
		t.Errorf("lungs hold %.2f L, want 3–5 L", litres)
	}
	if !store.IsLung(at(c[0], c[1], c[2])) {
		t.Errorf("the LUNA16 nodule's centre has label %d, not lung", at(c[0], c[1], c[2]))
	}
	// The trachea: the darkest mid-sized blob near the middle of the top
	// slices must carry no lung label.
	top := grid.Shape[0] - 5
	lungInTrachea := 0
	for y := ny/2 - 40; y < ny/2+40; y++ {
		for x := nx/2 - 25; x < nx/2+25; x++ {
			if vol[(top*ny+y)*nx+x] < -950 && store.IsLung(at(top, y, x)) {
				lungInTrachea++
			}
		}
	}
	if lungInTrachea > 0 || airway == 0 {
		t.Errorf("top slice: %d lumen voxels near the middle labelled lung, %d airway voxels in all", lungInTrachea, airway)
	}
}

func meanX(lab []uint8, nx int, l uint8) float64 {
	sum, n := 0, 0
	for i, v := range lab {
		if v == l {
			sum += i % nx
			n++
		}
	}
	return float64(sum) / float64(max(n, 1))
}

// TestRealLungsJPEG2000: the real upper-abdomen series (DICOM, JPEG 2000)
// holds stomach and bowel gas, one pocket near the body's middle that the
// trachea search once took for the trachea (and then the gas around it for
// two lungs). No voxel of it is lung or airway now; the scan shows no lung
// at all, so its mask is empty and flagged.
func TestRealLungsJPEG2000(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := itkgolden.RealCT(t, "upper-abdomen-j2k")
	files, _ := filepath.Glob(filepath.Join(dir, "CT*"))
	found, err := dicom.Format{}.Find(context.Background(), files)
	if err != nil || len(found.Scans) != 1 {
		t.Fatalf("%v: %+v", err, found)
	}
	info, hu, err := dicom.Format{}.ReadCT(context.Background(), found.Scans[0])
	if err != nil {
		t.Fatal(err)
	}
	vol, lungs, _ := realLungs(t, hu, info.Geometry)
	gasLabelled, labelled := 0, 0
	for i, l := range lungs.Labels {
		if l != 0 {
			labelled++
			if vol[i] < -900 {
				gasLabelled++
			}
		}
	}
	t.Logf("labelled %d voxels (%d of them gas), flags %v", labelled, gasLabelled, lungs.Flags)
	if gasLabelled > 0 || labelled > 0 {
		t.Errorf("%d voxels labelled lung or airway, %d of them gas: an abdominal scan without lungs", labelled, gasLabelled)
	}
	if len(lungs.Flags) == 0 {
		t.Error("an empty mask without a flag: mine --lung auto would sample from it")
	}
}
