package mine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"voxmine/ingest"
	"voxmine/internal/testenv"
	"voxmine/mine"
	"voxmine/store"
	"voxmine/store/storetest"
)

// realStore ingests the real LIDC-IDRI-0001 DICOM series of ../shared/realct
// once, with LUNA16's annotations and excluded findings, lungs computed.
var realStore = sync.OnceValues(func() (string, error) {
	src := filepath.Join("..", "..", "shared", "realct", "lidc-idri-0001")
	if _, err := os.Stat(src); err != nil {
		return "", err
	}
	dir, err := testenv.TempDir("voxmine-realct-")
	if err != nil {
		return "", err
	}
	luna := filepath.Join("..", "..", "shared", "luna16")
	// Candidates, as a CAD system would list them: LUNA16 has a candidates
	// file for this series, which ../shared does not hold; these rows put a
	// class-1 candidate on the nodule and class-0 ones on the excluded
	// findings of annotations_excluded.csv and at two points in the lungs.
	cands := filepath.Join(dir, "candidates.csv")
	rows := "seriesuid,coordX,coordY,coordZ,class\n"
	uid := "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192"
	rows += uid + ",56.208,86.343,-115.868,1\n"
	for _, p := range [][3]float64{{-80, 20, -150}, {90, 10, -180}, {-60, 40, -100}, {70, 30, -90}} {
		rows += fmt.Sprintf("%s,%g,%g,%g,0\n", uid, p[0], p[1], p[2])
	}
	if err := os.WriteFile(cands, []byte(rows), 0o644); err != nil {
		return "", err
	}
	_, err = ingest.Run(context.Background(), ingest.Options{
		Sources: []string{src}, StoreDir: filepath.Join(dir, "store"), Workers: 1, PadHU: -1000,
		Annotations: filepath.Join(luna, "annotations.csv"), Excluded: filepath.Join(luna, "annotations_excluded.csv"),
		Candidates: cands,
	})
	return filepath.Join(dir, "store"), err
})

func openReal(t *testing.T) *store.Store {
	t.Helper()
	testenv.SkipUnderRace(t) // a real scan's ingest: compute, run at full speed
	testenv.Shared(t, "realct/lidc-idri-0001")
	dir, err := realStore()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(storetest.Scans(t, s)); n != 1 {
		t.Fatalf("%d scans ingested from the LIDC folder, want 1", n)
	}
	return s
}

// TestRealLIDCPositives: ingest reads the TCIA download directly and
// LUNA16's annotations.csv applies unchanged; the positive cube is centred
// on LUNA16's nodule (world 56.208, 86.343, −115.868; 23.35 mm).
func TestRealLIDCPositives(t *testing.T) {
	s := openReal(t)
	o := mine.DefaultOutput(t.TempDir())
	res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, res.Index)
	if len(rows) != 1 {
		t.Fatalf("%d positives, LUNA16 has 1 nodule in this series", len(rows))
	}
	info := storetest.Scans(t, s)[0]
	if info.UID != "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192" || info.Source.Format != "dicom" {
		t.Errorf("scan %s read as %q", info.UID, info.Source.Format)
	}
	// Who and which reconstruction, from the DICOM headers, for splits by
	// patient and choices of kernel.
	want := store.Provenance{PatientID: "LIDC-IDRI-0001", StudyUID: "1.3.6.1.4.1.14519.5.2.1.6279.6001.298806137288633453246975630178",
		StudyDate: "20000101", Kernel: "STANDARD", SliceThickness: 2.5}
	if info.Source.Provenance != want {
		t.Errorf("provenance %+v, want %+v", info.Source.Provenance, want)
	}
	g := info.Grid
	c := centre(t, rows[0])
	nodule := [3]float64{-115.868, 86.343, 56.208} // z, y, x in LPS world mm
	for a := range 3 {
		world := g.Origin[2-a] + float64(c[a])*g.Direction[(2-a)*3+(2-a)]
		if math.Abs(world-nodule[a]) > 1 {
			t.Errorf("axis %d: centre at %.2f mm, the nodule at %.2f", a, world, nodule[a])
		}
	}
	// The nodule is dense tissue: the centre voxel is well above lung.
	v, _ := s.OpenVolume(info.UID)
	defer v.Close()
	hu := make([]int16, 1)
	v.ReadHU(store.Box{Z: c[0], Y: c[1], X: c[2], D: 1, H: 1, W: 1}, 0, hu)
	if hu[0] < -400 {
		t.Errorf("centre voxel %d HU: not the nodule", hu[0])
	}
}

// TestRealLIDCOrientLPS: --orient lps on real LUNA16 geometry (a DICOM
// series of LIDC-IDRI) keeps the cube's axes running to +x, +y, +z.
func TestRealLIDCOrientLPS(t *testing.T) {
	s := openReal(t)
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.DType, o.Orient = 8, mine.I16, "lps"
	res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{})
	if err != nil {
		t.Fatal(err)
	}
	assertLPS(t, s, o.Dir, res.Index)
}

// TestRealLIDCNegatives: negatives from the real scan keep 15 mm from the
// LUNA16 nodule and the excluded findings, and lie in the computed lung.
func TestRealLIDCNegatives(t *testing.T) {
	s := openReal(t)
	o := mine.DefaultOutput(t.TempDir())
	p := mine.DefaultNegatives()
	p.PerScan, p.Seed = 12, 3
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	rows := readIndex(t, res.Index)
	if len(rows) != 12 {
		t.Fatalf("%d negatives, want 12 (skipped %v)", len(rows), res.Skipped)
	}
	for _, r := range rows {
		if d, _ := strconv.ParseFloat(r["nearest_finding_mm"], 64); d < 15 {
			t.Errorf("%s: %.1f mm from a finding", r["patch_file"], d)
		}
		if f, _ := strconv.ParseFloat(r["lung_fraction"], 64); f <= 0 {
			t.Errorf("%s: lung fraction %v", r["patch_file"], f)
		}
	}
}

// TestRealLIDCPicture draws the real scan's lung picture and checks that
// it shows both lungs and the airway in their colours; with
// VOXMINE_WRITE_DOCS=1 it writes docs/lungs-lidc-idri-0001.png.
func TestRealLIDCPicture(t *testing.T) {
	s := openReal(t)
	v, err := s.OpenVolume(storetest.Scans(t, s)[0].UID)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var b bytes.Buffer
	if err := mine.LungPicture(v, &b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	// Count pixels tinted towards each label colour.
	var blue, green, red int
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case bl > r+0x2000 && bl > g+0x1000:
				blue++
			case g > r+0x2000 && g > bl+0x2000:
				green++
			case r > g+0x3000 && r > bl+0x3000:
				red++
			}
		}
	}
	if blue < 5000 || green < 5000 || red < 20 {
		t.Errorf("picture shows %d right-lung, %d left-lung, %d airway pixels", blue, green, red)
	}
	if os.Getenv("VOXMINE_WRITE_DOCS") != "" {
		os.WriteFile(filepath.Join("..", "docs", "lungs-lidc-idri-0001.png"), b.Bytes(), 0o644)
	}
}

// TestRealLIDCCandidatesAndDataset: hard negatives on CAD candidates and a
// whole training set from the real scan.
func TestRealLIDCCandidatesAndDataset(t *testing.T) {
	s := openReal(t)
	o := mine.DefaultOutput(t.TempDir())
	res, err := mine.Candidates(context.Background(), s, o, mine.CandidateParams{Class: 0, PerScan: 10, MinDistToNodule: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Patches != 4 {
		t.Errorf("%d class-0 candidates cut, the file lists 4", res.Patches)
	}
	o = mine.DefaultOutput(t.TempDir())
	res, err = mine.Dataset(context.Background(), s, o, mine.DatasetParams{NegativesPerPositive: 3, HardFraction: 0.34, Seed: 2, Negatives: mine.DefaultNegatives()})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, r := range readIndex(t, res.Index) {
		kinds[r["kind"]]++
	}
	if kinds["positive"] != 1 || kinds["negative"]+kinds["hard_negative"] != 3 || kinds["hard_negative"] == 0 {
		t.Errorf("kinds %v: want 1 positive and 3 negatives, some hard", kinds)
	}
}

// TestRealLIDCReadsMatchLUNA16: ingested with no CSV at all, the LIDC XML
// reads beside the DICOM give the positive LUNA16's annotations.csv gives
// (the same centre voxel), with the readers' characteristics in the index,
// and the reader filters work.
func TestRealLIDCReadsMatchLUNA16(t *testing.T) {
	csvStore := openReal(t)
	src := filepath.Join("..", "..", "shared", "realct", "lidc-idri-0001")
	dir := t.TempDir()
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: dir, Workers: 1, PadHU: -1000}); err != nil {
		t.Fatal(err)
	}
	xmlStore, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]map[string]string{}
	for name, s := range map[string]*store.Store{"csv": csvStore, "xml": xmlStore} {
		res, err := mine.Positives(context.Background(), s, mine.DefaultOutput(t.TempDir()), mine.PositiveParams{})
		if err != nil {
			t.Fatal(err)
		}
		rows[name] = readIndex(t, res.Index)
	}
	if len(rows["xml"]) != 1 || centre(t, rows["xml"][0]) != centre(t, rows["csv"][0]) {
		t.Fatalf("from the reads %v, from LUNA16's CSV %v", rows["xml"], rows["csv"])
	}
	if r := rows["xml"][0]; r["readers"] != "4" || r["malignancy"] == "" {
		t.Errorf("readers %q, malignancy %q: the index should carry the reads", r["readers"], r["malignancy"])
	}
	f, _ := xmlStore.Findings()
	sf := f.Series[storetest.Scans(t, xmlStore)[0].UID]
	if len(sf.Excluded) == 0 || len(sf.Reads) != len(sf.Annotations)+len(sf.Excluded) {
		t.Errorf("%d annotations, %d excluded, %d reads: every cluster is kept", len(sf.Annotations), len(sf.Excluded), len(sf.Reads))
	}
	for _, tc := range []struct {
		p    mine.PositiveParams
		want int
	}{{mine.PositiveParams{MinReaders: 4, Malignancy: []int{4, 5}}, 1}, {mine.PositiveParams{Malignancy: []int{1, 2}}, 0}} {
		res, err := mine.Positives(context.Background(), xmlStore, mine.DefaultOutput(t.TempDir()), tc.p)
		if err != nil || res.Patches != tc.want {
			t.Errorf("%+v: %v, %d patches, want %d", tc.p, err, res.Patches, tc.want)
		}
	}
	if _, err := mine.Positives(context.Background(), csvStore, mine.DefaultOutput(t.TempDir()), mine.PositiveParams{MinReaders: 3}); err == nil {
		t.Error("--min-readers on CSV findings should be refused")
	}

	// Nodule masks beside the cube: the readers' 50 % consensus outline
	// from the reads, a sphere of LUNA16's 23.35 mm from the CSV. They must
	// describe the same nodule: both hold the centre, similar volumes, and
	// they overlap.
	masks := map[string][]uint8{}
	for name, s := range map[string]*store.Store{"csv": csvStore, "xml": xmlStore} {
		var buf bytes.Buffer
		o := mine.DefaultOutput("")
		o.Stream, o.NoduleMask = &buf, true
		if _, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{}); err != nil {
			t.Fatal(err)
		}
		members := untar(t, &buf)
		for n, b := range members {
			switch {
			case strings.HasSuffix(n, ".nodule.npy"):
				masks[name] = b[len(mine.NPYHeader(mine.U8, 64, 64, 64)):]
			case strings.HasSuffix(n, ".json"):
				want := map[string]string{"csv": mine.MaskSphere, "xml": mine.MaskLIDC}[name]
				if !strings.Contains(string(b), `"nodule_mask":"`+want+`"`) {
					t.Errorf("%s: row %s does not say nodule_mask %s", name, b, want)
				}
			}
		}
	}
	count := func(m []uint8) (n int) {
		for _, v := range m {
			n += int(v)
		}
		return n
	}
	both := 0
	for i := range masks["csv"] {
		if masks["csv"][i] == 1 && masks["xml"][i] == 1 {
			both++
		}
	}
	nc, nx := count(masks["csv"]), count(masks["xml"])
	dice := 2 * float64(both) / float64(nc+nx)
	t.Logf("nodule mask: sphere %d mm³, LIDC consensus %d mm³, Dice %.3f", nc, nx, dice)
	centreIdx := (32*64+32)*64 + 32
	if len(masks["xml"]) != 64*64*64 || masks["xml"][centreIdx] != 1 || masks["csv"][centreIdx] != 1 {
		t.Fatalf("the masks do not hold the cube's centre")
	}
	if r := float64(nx) / float64(nc); r < 0.85 || r > 1.15 || dice < 0.8 {
		t.Errorf("consensus outline %d mm³ against the sphere's %d (Dice %.3f): not the same nodule", nx, nc, dice)
	}
}

// untar reads a whole tar into memory, member name to bytes.
func untar(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

// TestRealLIDCFragileDownloads: LIDC-IDRI-0001 as real downloads go
// wrong. Without one of its files (a slice below the nodule), the readers'
// nodule is still found, at the centre the whole series gives (its marks
// were placed a slice too low past the gap, or the read was lost); the
// series downloaded twice, XML included, gives the nodule once, with its
// 4 readers, not 8.
func TestRealLIDCFragileDownloads(t *testing.T) {
	testenv.SkipUnderRace(t)
	src := testenv.Shared(t, "realct/lidc-idri-0001")
	files, _ := os.ReadDir(src)
	centre := func(t *testing.T, dir string) ([3]int, map[string]string) {
		t.Helper()
		st := filepath.Join(t.TempDir(), "store")
		if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{dir}, StoreDir: st, Workers: 1, PadHU: -1000,
			Lung: ingest.LungSourceNone}); err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(st)
		if err != nil {
			t.Fatal(err)
		}
		res, err := mine.Positives(context.Background(), s, mine.DefaultOutput(t.TempDir()), mine.PositiveParams{})
		if err != nil {
			t.Fatal(err)
		}
		rows := readIndex(t, res.Index)
		if len(rows) != 1 {
			t.Fatalf("%d positives, want the 1 consensus nodule", len(rows))
		}
		return [3]int{atoi(t, rows[0]["center_z"]), atoi(t, rows[0]["center_y"]), atoi(t, rows[0]["center_x"])}, rows[0]
	}
	copyAll := func(dst string, skip string) {
		os.MkdirAll(dst, 0o755)
		for _, f := range files {
			if f.Name() == skip || f.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dst, f.Name()), b, 0o644)
		}
	}
	whole, _ := centre(t, src)
	gap := filepath.Join(t.TempDir(), "gap")
	copyAll(gap, "000040.dcm")
	if got, _ := centre(t, gap); got != whole {
		t.Errorf("one file missing: nodule at %v, the whole series puts it at %v", got, whole)
	}
	twice := t.TempDir()
	copyAll(filepath.Join(twice, "first"), "")
	copyAll(filepath.Join(twice, "again"), "")
	got, row := centre(t, twice)
	if got != whole || row["readers"] != "4" {
		t.Errorf("downloaded twice: nodule at %v with %s readers, want %v with 4", got, row["readers"], whole)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRealLIDCScanTable: the scan table of the real DICOM series says who
// and what it is, as its headers do (patient, study date, kernel, the
// 2.5 mm slices), with LUNA16's nodule, and --one-per-study keeps it.
func TestRealLIDCScanTable(t *testing.T) {
	s := openReal(t)
	rows, _ := scanTable(t, s)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	got := map[string]string{}
	for i, c := range rows[0] {
		got[c] = rows[1][i]
	}
	for col, want := range map[string]string{"seriesuid": "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192",
		"patient_id": "LIDC-IDRI-0001", "study_date": "20000101", "kernel": "STANDARD", "slice_thickness_mm": "2.5",
		"spacing_z_mm": "2.5", "source_slices": "133", "annotations": "1", "format": "dicom"} {
		if got[col] != want {
			t.Errorf("%s = %q, want %q", col, got[col], want)
		}
	}
	if picked, left := mine.OnePerStudy(storetest.Scans(t, s), nil); len(picked) != 1 || left != 0 || picked[0] != got["seriesuid"] {
		t.Errorf("one per study: %v, %d left", picked, left)
	}
}
