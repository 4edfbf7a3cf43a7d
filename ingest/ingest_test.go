package ingest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"voxmine/ingest"
	"voxmine/ingest/resample"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/store"
	"voxmine/store/storetest"
)

// smallSet generates a small dataset with the MetaImage variants once per
// test binary; tests copy nothing and only read it.
var smallSet = sync.OnceValues(func() (string, error) {
	dir, err := testenv.TempDir("voxmine-small-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(context.Background(), dir, synth.Options{N: 4, Seed: 7, Small: true, Variants: true, Workers: 2})
	return dir, err
})

func small(t *testing.T) (string, *synth.Truth) {
	t.Helper()
	dir, err := smallSet()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := synth.ReadTruth(filepath.Join(dir, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, tr
}

func options(src, st string) ingest.Options {
	return ingest.Options{
		Sources: []string{src}, StoreDir: st, MaskDir: filepath.Join(src, "seg-lungs-LUNA16"),
		Annotations: filepath.Join(src, "annotations.csv"), Excluded: filepath.Join(src, "annotations_excluded.csv"),
		Candidates: filepath.Join(src, "candidates.csv"), Workers: 2, PadHU: -1000,
	}
}

func TestIngestVariantsAndFailures(t *testing.T) {
	src, tr := small(t)
	st := t.TempDir()
	rep, err := ingest.Run(context.Background(), options(src, st))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mapped != len(tr.Scans) || rep.MasksFound != len(tr.Scans)-3 {
		t.Errorf("found %d scans and %d masks, generated %d", rep.Mapped, rep.MasksFound, len(tr.Scans))
	}
	byUID := map[string]ingest.ScanResult{}
	for _, r := range rep.Results {
		byUID[r.UID] = r
	}
	wantErr := map[string]string{
		synth.BrokenTruncated: "truncated",
		synth.BrokenNoDimSize: "missing key DimSize",
		synth.BrokenType:      "MET_FLOAT_MATRIX",
	}
	for _, s := range tr.Scans {
		r := byUID[s.UID]
		if synth.IsBroken(s.Variant) {
			if r.Status != "failed" || r.Err == nil || !strings.Contains(r.Err.Error(), wantErr[s.Variant]) ||
				!strings.Contains(r.Err.Error(), s.UID) {
				t.Errorf("%s: status %s, error %v; want a failure naming the file and %q", s.Variant, r.Status, r.Err, wantErr[s.Variant])
			}
			continue
		}
		if r.Status != "ingested" {
			t.Errorf("%s (%s): %s %v", s.UID, s.Variant, r.Status, r.Err)
		}
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(storetest.Scans(t, s)); n != len(tr.Scans)-3 {
		t.Fatalf("catalog lists %d scans", n)
	}
	f, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range tr.Scans {
		if synth.IsBroken(sc.Variant) {
			continue
		}
		info, _ := storetest.Lookup(t, s, sc.UID)
		g := resample.Grid1mm(info.Source.Geometry)
		if info.Grid != g || !info.HasLabels || info.LabelSource != "file" {
			t.Errorf("%s: grid %+v (want %+v), labels %v from %q", sc.UID, info.Grid, g, info.HasLabels, info.LabelSource)
		}
		got := 0
		if sf := f.Series[sc.UID]; sf != nil {
			got = len(sf.Annotations)
		}
		if got != len(sc.Nodules) {
			t.Errorf("%s: %d nodules drawn, catalog has %d annotations", sc.UID, len(sc.Nodules), got)
		}
		// Every nodule's centre, found through the direction matrix, is lung
		// and nodule-dense in the store.
		v, err := s.OpenVolume(sc.UID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range sc.Nodules {
			c := sc.VoxelZYX(n.World, 1)
			hu, lab := make([]int16, 1), make([]uint8, 1)
			box := store.Box{Z: c[0], Y: c[1], X: c[2], D: 1, H: 1, W: 1}
			if err := v.ReadHU(box, -1000, hu); err != nil {
				t.Fatal(err)
			}
			v.ReadLabels(box, 0, lab)
			if hu[0] < -300 || !store.IsLung(lab[0]) {
				t.Errorf("%s (mirrored %v): nodule at %v → voxel %v holds %d HU, label %d", sc.UID, sc.Mirrored, n.World, c, hu[0], lab[0])
			}
		}
		v.Close()
	}

	// A second run finds everything current; --force redoes it.
	rep, err = ingest.Run(context.Background(), options(src, st))
	if err != nil || rep.Count("skipped") != len(tr.Scans)-3 || rep.Count("ingested") != 0 {
		t.Errorf("rerun: %d skipped, %d ingested (%v)", rep.Count("skipped"), rep.Count("ingested"), err)
	}
	o := options(src, st)
	o.Force = true
	if rep, err = ingest.Run(context.Background(), o); err != nil || rep.Count("ingested") != len(tr.Scans)-3 {
		t.Errorf("force: %d ingested (%v)", rep.Count("ingested"), err)
	}
}

func TestRealAnnotationsLoad(t *testing.T) {
	path := testenv.Shared(t, "luna16/annotations.csv")
	f := &store.Findings{}
	n, err := ingest.ReadFindings(path, ingest.Annotations, f)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1186 || len(f.Series) != 601 {
		t.Errorf("%d rows in %d series, want 1186 in 601", n, len(f.Series))
	}
}

func TestCSVErrors(t *testing.T) {
	tests := []struct {
		name, body string
		kind       ingest.CSVKind
		want       string
	}{
		{"bad number", "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2,1,2,3,4\n1.2,1,x,3,4\n", ingest.Annotations, ":3: coordY \"x\""},
		{"missing column", "seriesuid,coordX,coordY,diameter_mm\n", ingest.Annotations, "coordZ"},
		{"missing class", "seriesuid,coordX,coordY,coordZ\n", ingest.Candidates, "class"},
		{"two columns for one", "seriesuid,x,coordX,coordY,coordZ\n", ingest.Excluded, "both give coordX"},
		{"bad class", "seriesuid,coordX,coordY,coordZ,class\n1.2,1,2,3,7\n", ingest.Candidates, ":2: class 7"},
		{"short row", "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2,1,2\n", ingest.Annotations, ":2:"},
		{"bad label", "SeriesInstanceUID,CoordX,CoordY,CoordZ,label\n1.2,1,2,3,maybe\n", ingest.Annotations, `:2: "label" "maybe"`},
		{"empty uid", "seriesuid,coordX,coordY,coordZ,diameter_mm\n,1,2,3,4\n", ingest.Annotations, "empty seriesuid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			_, err := ingest.ReadFindings(path, tc.kind, &store.Findings{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want file:line and %q", err, tc.want)
			}
		})
	}
}

// TestCSVLayouts: the annotation tables of other datasets than LUNA16 are
// read by their own column names: LUNA25's (SeriesInstanceUID, CoordX …,
// no diameter: each nodule counts as 10 mm; its malignancy label kept as
// the annotation's class), "Diameter [mm]", plain x, y, z.
func TestCSVLayouts(t *testing.T) {
	tests := []struct {
		name, body string
		want       store.Finding
	}{
		{"LUNA16", "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,-1.5,2,3,6.5\n", store.Finding{X: -1.5, Y: 2, Z: 3, Diameter: 6.5, Class: -1}},
		{"LUNA25", "PatientID,SeriesInstanceUID,StudyDate,CoordX,CoordY,CoordZ,LesionID,AnnotationID,NoduleID,label\n" +
			"100012,1.2.3,19990102,-1.5,2,3,1,100012_1_19990102,1,1\n", store.Finding{X: -1.5, Y: 2, Z: 3, Diameter: -1, Class: 1}},
		{"Diameter [mm]", "SeriesInstanceUID,CoordX,CoordY,CoordZ,Diameter [mm]\n1.2.3,-1.5,2,3,6.5\n", store.Finding{X: -1.5, Y: 2, Z: 3, Diameter: 6.5, Class: -1}},
		{"x, y, z", "\ufeffseriesuid,x,y,z,diameter\n1.2.3,-1.5,2,3,6.5\n", store.Finding{X: -1.5, Y: 2, Z: 3, Diameter: 6.5, Class: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			f := &store.Findings{}
			n, err := ingest.ReadFindings(path, ingest.Annotations, f)
			if err != nil || n != 1 {
				t.Fatalf("%d rows, %v", n, err)
			}
			sf := f.Series["1.2.3"]
			if sf == nil || len(sf.Annotations) != 1 || sf.Annotations[0] != withRow(tc.want, 2) {
				t.Errorf("read %+v, want %+v", sf, tc.want)
			}
		})
	}
}

// TestKillMidIngest kills an ingesting child process with SIGKILL at
// several moments, runs ingest again, and checks the store ends complete.
func TestKillMidIngest(t *testing.T) {
	src, tr := small(t)
	st := t.TempDir()
	good := 0
	for _, s := range tr.Scans {
		if !synth.IsBroken(s.Variant) {
			good++
		}
	}
	// Kill the first child early, the others once the catalog has grown
	// by a scan: each kill lands in the middle of writing another one.
	for round := range 3 {
		cmd := child(t, "TestIngestChild", "VOXMINE_CHILD_SRC="+src, "VOXMINE_CHILD_STORE="+st, "VOXMINE_CHILD_SHARD=0/1")
		before := listed(st)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for round > 0 && listed(st) <= before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("kill %d: %d scans listed", round, listed(st))
		// Whatever the catalog lists must open and read.
		checkStore(t, st, -1)
	}
	rep, err := ingest.Run(context.Background(), options(src, st))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after kills: %d skipped, %d ingested", rep.Count("skipped"), rep.Count("ingested"))
	checkStore(t, st, good)
	entries, _ := os.ReadDir(filepath.Join(st, "scans"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover temporary %s", e.Name())
		}
	}
}

// listed counts the scans in a store's catalog, 0 when there is none.
func listed(dir string) int {
	s, err := store.Open(dir)
	if err != nil {
		return 0
	}
	defer s.Close()
	uids, _ := s.UIDs()
	return len(uids)
}

// checkStore opens every listed scan and reads it whole; want ≥ 0 also
// checks the count.
func checkStore(t *testing.T, dir string, want int) {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		if want < 0 && strings.Contains(err.Error(), "not a voxmine store") {
			return // killed before the store existed
		}
		t.Fatal(err)
	}
	if want >= 0 && len(storetest.Scans(t, s)) != want {
		t.Errorf("%d scans listed, want %d", len(storetest.Scans(t, s)), want)
	}
	for _, sc := range storetest.Scans(t, s) {
		v, err := s.OpenVolume(sc.UID)
		if err != nil {
			t.Fatalf("listed scan does not open: %v", err)
		}
		g := sc.Grid.Shape
		buf := make([]int16, g[0]*g[1]*g[2])
		if err := v.ReadHU(store.Box{D: g[0], H: g[1], W: g[2]}, 0, buf); err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
}

func child(t *testing.T, test string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func TestIngestChild(t *testing.T) {
	src := os.Getenv("VOXMINE_CHILD_SRC")
	if src == "" {
		t.Skip("runs only as a child of TestKillMidIngest or TestConcurrentShards")
	}
	var i, n int
	fmt.Sscanf(os.Getenv("VOXMINE_CHILD_SHARD"), "%d/%d", &i, &n)
	o := options(src, os.Getenv("VOXMINE_CHILD_STORE"))
	o.Shard, o.Shards, o.Workers = i, n, 1
	if _, err := ingest.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentShards runs three processes with --shard i/3 on one store
// at once; every scan must be listed exactly once, with its findings.
func TestConcurrentShards(t *testing.T) {
	src, tr := small(t)
	st := t.TempDir()
	var cmds []*exec.Cmd
	for i := range 3 {
		cmd := child(t, "TestIngestChild", "VOXMINE_CHILD_SRC="+src, "VOXMINE_CHILD_STORE="+st, "VOXMINE_CHILD_SHARD="+strconv.Itoa(i)+"/3")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		c.Wait() // the broken variants make some children fail; the store is what counts
	}
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, sc := range storetest.Scans(t, s) {
		listed[sc.UID]++
	}
	f, _ := s.Findings()
	for _, sc := range tr.Scans {
		if synth.IsBroken(sc.Variant) {
			continue
		}
		if listed[sc.UID] != 1 {
			t.Errorf("%s listed %d times", sc.UID, listed[sc.UID])
		}
		if len(sc.Nodules) > 0 && (f.Series[sc.UID] == nil || len(f.Series[sc.UID].Annotations) != len(sc.Nodules)) {
			t.Errorf("%s: findings lost", sc.UID)
		}
	}
}

func TestShardOfIsAPartition(t *testing.T) {
	// 3,000 uids shaped like LUNA16's: every uid falls in exactly one of
	// the n shards, every shard gets its share (within 20 %), and the
	// shards of --shard i/n for i < n together hold every uid once.
	uids := make([]string, 3000)
	for i := range uids {
		uids[i] = fmt.Sprintf("1.3.6.1.4.1.14519.5.2.1.6279.6001.%030d", uint64(i)*2654435761%1_000_000_007)
	}
	for _, n := range []int{1, 2, 5, 16} {
		counts := make([]int, n)
		for _, u := range uids {
			k := ingest.ShardOf(u, n)
			if k < 0 || k >= n {
				t.Fatalf("ShardOf(%s, %d) = %d, out of range", u, n, k)
			}
			counts[k]++
		}
		total := 0
		for k, c := range counts {
			total += c
			if want := len(uids) / n; c < want*8/10 || c > want*12/10 {
				t.Errorf("n=%d: shard %d holds %d uids, want about %d", n, k, c, want)
			}
		}
		if total != len(uids) {
			t.Errorf("n=%d: the shards hold %d uids of %d", n, total, len(uids))
		}
	}
}

// TestMaskOfAnotherGeometry: a mask that does not lie on its scan's grid
// fails that scan, with both files named, and not the others.
func TestMaskOfAnotherGeometry(t *testing.T) {
	testenv.SkipUnderRace(t) // error reporting, no concurrency of its own
	orig, tr := small(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(orig)); err != nil {
		t.Fatal(err)
	}
	var victim *synth.ScanTruth
	for i := range tr.Scans {
		if tr.Scans[i].Variant == "" {
			victim = &tr.Scans[i]
			break
		}
	}
	mhd := filepath.Join(src, victim.MaskPath)
	b, _ := os.ReadFile(mhd)
	b = []byte(strings.Replace(string(b), "ElementSpacing = ", "ElementSpacing = 0.5 0.5 0.5\nX = ", 1))
	if err := os.WriteFile(mhd, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(context.Background(), options(src, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]bool{}
	for _, s := range tr.Scans {
		broken[s.UID] = synth.IsBroken(s.Variant)
	}
	for _, r := range rep.Results {
		switch {
		case r.UID == victim.UID:
			if r.Status != "failed" || !strings.Contains(r.Err.Error(), "does not fit scan") || !strings.Contains(r.Err.Error(), victim.UID) {
				t.Errorf("victim: %s %v", r.Status, r.Err)
			}
		case r.Status == "failed" && !broken[r.UID]:
			t.Errorf("%s failed too: %v", r.UID, r.Err)
		}
	}
	if rep.Count("ingested") != len(tr.Scans)-4 {
		t.Errorf("%d ingested, want all but the 3 broken scans and the victim", rep.Count("ingested"))
	}
}

// TestMasksFoundInSource: with no --masks, a seg-lungs-LUNA16 folder in a
// source is used, as LUNA16 is laid out.
func TestMasksFoundInSource(t *testing.T) {
	testenv.SkipUnderRace(t) // error reporting, no concurrency of its own
	src, tr := small(t)
	o := options(src, t.TempDir())
	o.MaskDir = ""
	rep, err := ingest.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MasksFound != len(tr.Scans)-3 || rep.MaskDir != filepath.Join(src, "seg-lungs-LUNA16") {
		t.Errorf("masks found %d in %q", rep.MasksFound, rep.MaskDir)
	}
}

// TestLongCSVValuesAreCut: a CSV field of 1 MB is quoted cut, with its size.
func TestLongCSVValuesAreCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "annotations.csv")
	os.WriteFile(path, []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,"+strings.Repeat("9x", 1<<19)+",2,3,6\n"), 0o644)
	_, err := ingest.ReadFindings(path, ingest.Annotations, &store.Findings{})
	if err == nil || len(err.Error()) > 600 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Errorf("%d bytes of error: %.300v", len(fmt.Sprint(err)), err)
	}
}

// withRow is f read from line row of a CSV.
func withRow(f store.Finding, row int) store.Finding {
	f.Row = row
	return f
}
