package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"voxmine/ingest"
	"voxmine/ingest/nifti"
	"voxmine/ingest/synth"
	"voxmine/internal/testenv"
	"voxmine/query"
	"voxmine/store"
	"voxmine/store/storetest"
)

var storeOnce = sync.OnceValues(func() (string, error) {
	dir, err := testenv.TempDir("voxmine-cmd-")
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "src")
	if _, err := synth.Generate(context.Background(), src, synth.Options{N: 2, Seed: 3, Small: true, Workers: 2}); err != nil {
		return "", err
	}
	st := filepath.Join(dir, "store")
	_, err = ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st,
		MaskDir: filepath.Join(src, "seg-lungs-LUNA16"), Annotations: filepath.Join(src, "annotations.csv"), Workers: 2, PadHU: -1000})
	return st, err
})

func testStore(t *testing.T) string {
	st, err := storeOnce()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInput(t *testing.T) {
	st := testStore(t)
	// A file where a folder should be: unwritable even for root.
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	uid := firstUID(t, st)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"no store", []string{"negatives", "--store", "/nonexistent", "--out", t.TempDir()}, 2, "does not exist"},
		{"not a store", []string{"negatives", "--store", t.TempDir(), "--out", t.TempDir()}, 2, "not a voxmine store"},
		{"missing out", []string{"negatives", "--store", st}, 2, "required"},
		{"window", []string{"negatives", "--store", st, "--out", t.TempDir(), "--window", "400,-1000"}, 2, "minimum must be below"},
		{"window junk", []string{"negatives", "--store", st, "--out", t.TempDir(), "--window", "abc"}, 2, "two numbers"},
		{"size", []string{"negatives", "--store", st, "--out", t.TempDir(), "--size", "0"}, 2, "not positive"},
		{"distance", []string{"negatives", "--store", st, "--out", t.TempDir(), "--min-dist", "-3"}, 2, "negative"},
		{"dtype", []string{"negatives", "--store", st, "--out", t.TempDir(), "--dtype", "f64"}, 2, "dtype"},
		{"avoid", []string{"negatives", "--store", st, "--out", t.TempDir(), "--avoid", "bones"}, 2, "avoid"},
		{"unwritable", []string{"negatives", "--store", st, "--out", filepath.Join(notDir, "x")}, 2, "not a directory"},
		{"unknown uid", []string{"roi", "--store", st, "--uid", "1.2.3", "--voxel", "1,2,3", "--out", filepath.Join(t.TempDir(), "a.npy")}, 2, "no such scan"},
		{"roi both centres", []string{"roi", "--store", st, "--uid", uid, "--voxel", "1,2,3", "--world", "1,2,3", "--out", "a.npy"}, 2, "one of --world or --voxel"},
		{"help", []string{"negatives", "--help"}, 0, "Examples"},
		{"bad flag", []string{"negatives", "--nope"}, 2, "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), output %q, want %q", code, tc.code, out+errOut, tc.want)
			}
		})
	}
}

func firstUID(t *testing.T, st string) string {
	entries, err := os.ReadDir(filepath.Join(st, "scans"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			return e.Name()
		}
	}
	t.Fatal("empty store")
	return ""
}

// TestCorruptShard: a damaged scan is listed as failed (exit 1), the other
// scans' patches are written, and none of the damaged scan's remain.
func TestCorruptShard(t *testing.T) {
	src := testStore(t)
	st := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(st, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	uid := firstUID(t, st)
	shard := filepath.Join(st, "scans", uid, "hu", "c", "0", "0", "0")
	b, _ := os.ReadFile(shard)
	for i := 0; i < len(b)/2; i += 97 {
		b[i] ^= 0x55 // damage chunks, not the index
	}
	os.WriteFile(shard, b, 0o644)
	out := t.TempDir()
	code, stdout, stderr := runCmd("negatives", "--store", st, "--out", out, "--per-scan", "3", "--quiet", "--lung", "none", "--size", "48")
	if code != 1 || !strings.Contains(stdout, "FAILED ") || !strings.Contains(stdout, "CRC") || !strings.Contains(stdout, "ingest --force") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// The failure names the scan once, however many layers the error went
	// through.
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, "FAILED") && strings.Count(line, uid) != 1 {
			t.Errorf("the uid appears %d times in %q", strings.Count(line, uid), line)
		}
	}
	entries, _ := os.ReadDir(out)
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), uid) {
			t.Errorf("patch %s of the damaged scan left behind", e.Name())
		}
		if strings.HasSuffix(e.Name(), ".npy") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d patches written, want the other scan's 3", n)
	}
}

func TestROIAndInfo(t *testing.T) {
	st := testStore(t)
	uid := firstUID(t, st)
	path := filepath.Join(t.TempDir(), "c.npy")
	if code, out, errOut := runCmd("roi", "--store", st, "--uid", uid, "--voxel", "10,20,30", "--size", "8", "--out", path); code != 0 {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 128+8*8*8*2 {
		t.Errorf("roi file: %v %v", st, err)
	}
	if code, out, _ := runCmd("info", "--store", st); code != 0 || !strings.Contains(out, "scans 2") {
		t.Errorf("info: %d %s", code, out)
	}
	if code, out, _ := runCmd("info", "--store", st, "--uid", uid, "--json"); code != 0 || !strings.Contains(out, `"seriesuid"`) {
		t.Errorf("info --uid: %d %s", code, out)
	}
}

// TestCLIConventions: help on stdout with exit 0, --version, mine help CMD,
// did-you-mean for commands and flags, errors on stderr.
func TestCLIConventions(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, 0, "Usage:", ""},
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"--version"}, 0, "voxmine", ""},
		{[]string{"help", "negatives"}, 0, "--hardness", ""},
		{[]string{"negatives", "--help"}, 0, "Options:", ""},
		{[]string{"negativs"}, 2, "", `did you mean "negatives"`},
		{[]string{"negatives", "--per-scna", "3"}, 2, "", "did you mean --per-scan?"},
		{[]string{"positives", "--store", testStore(t), "--out", t.TempDir(), "--jitter", "2"}, 2, "", "without copies"},
		{[]string{"info", "--store", "/nonexistent/store"}, 2, "", "does not exist"},
		// --per-scan is a count of patches in every command: 0 is refused alike.
		{[]string{"negatives", "--store", testStore(t), "--out", t.TempDir(), "--per-scan", "0"}, 2, "", "per-scan 0"},
		{[]string{"candidates", "--store", testStore(t), "--out", t.TempDir(), "--per-scan", "0"}, 2, "", "per-scan 0"},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
			t.Errorf("%v: exit %d (want %d)\nstdout %q\nstderr %q", tc.args, code, tc.code, out, errs)
		}
	}
}

// TestWarnsWithoutFindings: mining a store ingested without any CSV says so
// on stderr and in run.json, whose lists are [] when empty.
func TestWarnsWithoutFindings(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if _, err := synth.Generate(context.Background(), src, synth.Options{N: 1, Seed: 4, Small: true, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "store")
	if _, err := ingest.Run(context.Background(), ingest.Options{Sources: []string{src}, StoreDir: st, Workers: 1, PadHU: -1000}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bg")
	code, _, errs := runCmd("negatives", "--store", st, "--out", out, "--per-scan", "2", "--size", "16", "--quiet")
	if code != 0 || !strings.Contains(errs, "WARNING") || !strings.Contains(errs, "no findings") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	b, _ := os.ReadFile(filepath.Join(out, "run.json"))
	for _, want := range []string{`"warnings": [`, `"failed": []`, `"skipped": []`, `"command_line"`, `"volume_uuid"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("run.json lacks %s:\n%s", want, b)
		}
	}
}

// TestROIFormatsAndRules: mine roi writes real NIfTI placed in the world,
// refuses a cube wholly outside the scan and an existing file without
// --overwrite, and takes a unique uid prefix.
func TestROIFormatsAndRules(t *testing.T) {
	st := testStore(t)
	uid := firstUID(t, st)
	dir := t.TempDir()
	nii := filepath.Join(dir, "cube.nii.gz")
	if code, out, errs := runCmd("roi", "--store", st, "--uid", uid[:len(uid)-3], "--voxel", "10,12,14", "--size", "8", "--dtype", "i16", "--out", nii); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	h, hu, err := nifti.ReadCT(nii)
	if err != nil {
		t.Fatal(err)
	}
	g, err := h.Geometry()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := store.Open(st)
	info, _ := storetest.Lookup(t, s, uid)
	// Voxel (0,0,0) of the cube is voxel (6, 8, 10) of the scan's 1 mm grid.
	want := query.VoxelWorld(info.Grid, [3]int{6, 8, 10})
	// NIfTI-1 stores the sform in float32 (ITK 5.2 reads no NIfTI-2).
	off := math.Abs(g.Origin[0]-want[0]) + math.Abs(g.Origin[1]-want[1]) + math.Abs(g.Origin[2]-want[2])
	if off > 1e-3 || g.Shape != [3]int{8, 8, 8} || g.Direction != info.Grid.Direction {
		t.Errorf("NIfTI geometry %+v, want origin %v and the scan's direction %v", g, want, info.Grid.Direction)
	}
	npy := filepath.Join(dir, "cube.npy")
	runCmd("roi", "--store", st, "--uid", uid, "--voxel", "10,12,14", "--size", "8", "--dtype", "i16", "--out", npy)
	b, _ := os.ReadFile(npy)
	raw := b[len(b)-2*len(hu):]
	for i, v := range hu {
		if int16(uint16(raw[2*i])|uint16(raw[2*i+1])<<8) != v {
			t.Fatalf("voxel %d: NIfTI %d, .npy differs", i, v)
		}
	}
	// Windowed cubes are float32 in [0, 1] after a 352-byte header.
	fnii := filepath.Join(dir, "cube.nii")
	if code, out, errs := runCmd("roi", "--store", st, "--uid", uid, "--voxel", "10,12,14", "--size", "8", "--out", fnii); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	fb, _ := os.ReadFile(fnii)
	if len(fb) != 352+4*len(hu) || string(fb[344:347]) != "n+1" || binary.LittleEndian.Uint16(fb[70:]) != 16 {
		t.Fatalf("float NIfTI of %d bytes, magic %q, datatype %d", len(fb), fb[344:347], binary.LittleEndian.Uint16(fb[70:]))
	}
	for i, v := range hu {
		got := math.Float32frombits(binary.LittleEndian.Uint32(fb[352+4*i:]))
		want := float32((min(max(float64(v), -1000), 400) + 1000) / 1400)
		if got != want {
			t.Fatalf("voxel %d: %v in the NIfTI, want %v for %d HU", i, got, want, v)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--voxel", "5000,5000,5000", "--out", filepath.Join(dir, "far.npy")}, "wholly outside"},
		{[]string{"--voxel", "10,12,14", "--out", npy}, "--overwrite"},
	} {
		args := append([]string{"roi", "--store", st, "--uid", uid, "--size", "8"}, tc.args...)
		if code, _, errs := runCmd(args...); code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestInfoHealthAndList: mine info lists the scans, and a scan whose folder
// is gone makes it unhealthy (exit 1) with the fix; --repair names what it
// drops.
func TestInfoHealthAndList(t *testing.T) {
	src := testStore(t)
	st := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(st, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	uid := firstUID(t, st)
	code, out, _ := runCmd("info", "--store", st, "--scans")
	if code != 0 || !strings.Contains(out, uid) || !strings.Contains(out, "nodules") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	os.RemoveAll(filepath.Join(st, "scans", uid))
	code, out, _ = runCmd("info", "--store", st)
	if code != 1 || !strings.Contains(out, "UNHEALTHY") || !strings.Contains(out, uid) || !strings.Contains(out, "--repair") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("info", "--store", st, "--json")
	if code != 1 || !strings.Contains(out, uid) {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// The folder check alone (the default past 20,000 scans) finds it too.
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.CheckFolders(); err != nil || len(p) != 1 || p[0].UID != uid {
		t.Errorf("CheckFolders: %v, %v", p, err)
	}
	s.Close()
	n, dropped, err := store.Rebuild(st)
	if err != nil || len(dropped) != 1 || dropped[0] != uid {
		t.Errorf("rebuild: %d kept, dropped %v, %v", n, dropped, err)
	}
}

// TestInfoTables: --csv writes a row per scan that a CSV reader takes, and
// --one-per-study one uid a line that --uids takes back.
func TestInfoTables(t *testing.T) {
	st := testStore(t)
	code, out, errOut := runCmd("info", "--store", st, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 3 || rows[0][0] != "seriesuid" {
		t.Fatalf("--csv: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	code, out, errOut = runCmd("info", "--store", st, "--one-per-study")
	uids := strings.Fields(out)
	if code != 0 || len(uids) != 2 || !strings.Contains(errOut, "2 series") {
		t.Fatalf("--one-per-study: exit %d\n%s%s", code, out, errOut)
	}
	list := filepath.Join(t.TempDir(), "uids.txt")
	os.WriteFile(list, []byte(out), 0o644)
	if code, _, errOut := runCmd("negatives", "--store", st, "--uids", list, "--per-scan", "1", "--out", filepath.Join(t.TempDir(), "neg"), "--quiet"); code != 0 {
		t.Errorf("--uids from --one-per-study: exit %d\n%s", code, errOut)
	}
}

// TestUIDsChooseScans: --uids mines only the listed series (a uid a line
// or an index CSV, header and comments ignored), in every kind, and a uid
// the store does not hold is an error, not a silent empty run.
func TestUIDsChooseScans(t *testing.T) {
	st := testStore(t)
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(storetest.Scans(t, s)) < 2 {
		t.Fatalf("%d scans in the test store", len(storetest.Scans(t, s)))
	}
	// the last series with an annotated nodule, so positives exist too
	f, err := s.Findings()
	if err != nil {
		t.Fatal(err)
	}
	keep := ""
	for _, sc := range storetest.Scans(t, s) {
		if sf := f.Series[sc.UID]; sf != nil && len(sf.Annotations) > 0 {
			keep = sc.UID
		}
	}
	dir := t.TempDir()
	list := filepath.Join(dir, "split.csv")
	os.WriteFile(list, []byte("# validation split\nseriesuid,patient\n"+keep+",P1\n\n"), 0o644)
	for _, kind := range []string{"negatives", "positives"} {
		out := filepath.Join(dir, kind)
		code, stdout, errs := runCmd(kind, "--store", st, "--out", out, "--size", "16", "--quiet", "--uids", list)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s%s", kind, code, stdout, errs)
		}
		idx, _ := filepath.Glob(filepath.Join(out, "*index.csv"))
		if len(idx) != 1 {
			t.Fatalf("%s: index files %v", kind, idx)
		}
		b, _ := os.ReadFile(idx[0])
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) < 2 {
			t.Fatalf("%s: no rows mined from %s", kind, keep)
		}
		for _, l := range lines[1:] {
			if !strings.Contains(l, ","+keep+",") {
				t.Errorf("%s: row of another series: %s", kind, l)
			}
		}
	}
	os.WriteFile(list, []byte("1.2.3.not.here\n"), 0o644)
	code, _, errs := runCmd("negatives", "--store", st, "--out", filepath.Join(dir, "bad"), "--quiet", "--uids", list)
	if code == 0 || !strings.Contains(errs, "not in the store") || !strings.Contains(errs, "1.2.3.not.here") {
		t.Errorf("unknown uid: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("a wrong uid list left an output folder behind")
	}
}

// TestSplitCommand: mine split writes disjoint uid lists that cover the
// store, split.csv, refuses to overwrite without --overwrite, and its
// lists feed --uids.
func TestSplitCommand(t *testing.T) {
	st := testStore(t)
	s, _ := store.Open(st)
	out := filepath.Join(t.TempDir(), "splits")
	code, stdout, errs := runCmd("split", "--store", st, "--out", out, "--parts", "a:0.5,b:0.5", "--seed", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, errs)
	}
	if !strings.Contains(stdout, "no patient id") {
		t.Errorf("phantom scans carry no patient: the output should say so:\n%s", stdout)
	}
	seen := map[string]string{}
	for _, part := range []string{"a", "b"} {
		b, err := os.ReadFile(filepath.Join(out, part+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if p, ok := seen[l]; ok {
				t.Errorf("%s in %s and %s", l, p, part)
			}
			seen[l] = part
		}
	}
	if len(seen) != len(storetest.Scans(t, s)) {
		t.Errorf("the lists hold %d scans, the store %d", len(seen), len(storetest.Scans(t, s)))
	}
	if b, _ := os.ReadFile(filepath.Join(out, "split.csv")); strings.Count(string(b), "\n") != len(storetest.Scans(t, s))+1 {
		t.Errorf("split.csv:\n%s", b)
	}
	if code, _, errs := runCmd("split", "--store", st, "--out", out); code == 0 || !strings.Contains(errs, "--overwrite") {
		t.Errorf("second split into the same folder: exit %d, %s", code, errs)
	}
	for _, part := range []string{"a", "b"} {
		used := false
		for _, p := range seen {
			used = used || p == part
		}
		if !used {
			continue // an empty part cannot feed --uids
		}
		code, o, errs := runCmd("negatives", "--store", st, "--out", filepath.Join(out, "bg-"+part), "--size", "16", "--quiet", "--uids", filepath.Join(out, part+".txt"))
		if code != 0 {
			t.Errorf("negatives --uids %s.txt: exit %d: %s%s", part, code, o, errs)
		}
	}
}

// TestSplitByTablePatient: scans without a patient in their headers take
// the one their annotations table names (LUNA25's PatientID), and a
// patient's scans land in one part.
func TestSplitByTablePatient(t *testing.T) {
	src := testStore(t)
	st := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(st, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	s, _ := store.Open(st)
	var rows strings.Builder
	rows.WriteString("PatientID,SeriesInstanceUID,CoordX,CoordY,CoordZ,label\n")
	for i, sc := range storetest.Scans(t, s) {
		c := sc.Grid.Origin // any point will do
		fmt.Fprintf(&rows, "P%d,%s,%g,%g,%g,0\n", i/2, sc.UID, c[0], c[1], c[2])
	}
	s.Close()
	table := filepath.Join(t.TempDir(), "luna25.csv")
	os.WriteFile(table, []byte(rows.String()), 0o644)
	if err := func() error {
		_, err := ingest.LoadFindings(context.Background(), ingest.Options{StoreDir: st, Annotations: table})
		return err
	}(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "splits")
	if code, o, errs := runCmd("split", "--store", st, "--out", out, "--parts", "a:0.5,b:0.5"); code != 0 || strings.Contains(o, "no patient id") {
		t.Fatalf("exit %d: %s%s", code, o, errs)
	}
	if _, o, _ := runCmd("info", "--store", st); !strings.Contains(o, "patients ") {
		t.Errorf("mine info does not count the patients:\n%s", o)
	}
	b, _ := os.ReadFile(filepath.Join(out, "split.csv"))
	part := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(l, ",")
		if !strings.HasPrefix(f[1], "P") {
			t.Errorf("group %q is not the table's patient", f[1])
		}
		if p, ok := part[f[1]]; ok && p != f[2] {
			t.Errorf("patient %s in %s and %s", f[1], p, f[2])
		}
		part[f[1]] = f[2]
	}
}

// TestStrictShortfalls: what falls short of the asking is said on stderr,
// and --strict turns it into exit 1: a dataset's hard negatives from a
// store with no candidates (it gave 0 of them with no word), and positives
// from a list of series that hold no nodule (0 patches, exit 0).
func TestStrictShortfalls(t *testing.T) {
	st := testStore(t) // annotations, no candidates
	for _, strict := range []bool{false, true} {
		args := []string{"dataset", "--store", st, "--out", t.TempDir(), "--size", "16", "--negatives-per-positive", "4",
			"--hard-fraction", "0.5", "--quiet"}
		if strict {
			args = append(args, "--strict")
		}
		code, _, stderr := runCmd(args...)
		if !strings.Contains(stderr, "no scan has class-0 candidates") || !strings.Contains(stderr, "SHORT") {
			t.Errorf("dataset without candidates: stderr %q", stderr)
		}
		if want := map[bool]int{false: 0, true: 1}[strict]; code != want {
			t.Errorf("dataset without candidates, strict %v: exit %d, want %d", strict, code, want)
		}
	}
	// A list holding one series with no nodule.
	s, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.Findings()
	var plain string
	for _, sc := range storetest.Scans(t, s) {
		if sf := f.Series[sc.UID]; sf == nil || len(sf.Annotations) == 0 {
			plain = sc.UID
		}
	}
	if plain == "" {
		t.Skip("every scan of the store has a nodule")
	}
	list := filepath.Join(t.TempDir(), "test.txt")
	os.WriteFile(list, []byte(plain+"\n"), 0o644)
	code, _, stderr := runCmd("positives", "--store", st, "--out", t.TempDir(), "--uids", list, "--quiet", "--strict")
	if code != 1 || !strings.Contains(stderr, "no patch was cut") {
		t.Errorf("positives of a series with no nodule, --strict: exit %d, stderr %q", code, stderr)
	}
}

// TestLongValuesAreCut: a --uids line of 10 MB is not echoed whole.
func TestLongValuesAreCut(t *testing.T) {
	st := testStore(t)
	list := filepath.Join(t.TempDir(), "uids.txt")
	os.WriteFile(list, []byte(strings.Repeat("1.2", 10<<20/3)+"\n"), 0o644)
	code, stdout, stderr := runCmd("negatives", "--store", st, "--out", t.TempDir(), "--uids", list, "--quiet")
	if code == 0 || len(stdout)+len(stderr) > 2000 || !strings.Contains(stderr, "bytes)") {
		t.Errorf("exit %d, %d bytes of output: %.300s", code, len(stdout)+len(stderr), stderr)
	}
}

// TestMessagesThatMisled: --picture without --uid is refused rather than
// ignored; an unwritable --preview fails before any patch is cut; a store
// an ingest is still writing is said.
func TestMessagesThatMisled(t *testing.T) {
	src := testStore(t)
	if code, _, stderr := runCmd("info", "--store", src, "--picture", filepath.Join(t.TempDir(), "x.png")); code != 2 || !strings.Contains(stderr, "--uid") {
		t.Errorf("--picture without --uid: exit %d, %q", code, stderr)
	}
	out := t.TempDir()
	code, _, stderr := runCmd("negatives", "--store", src, "--out", out, "--preview", "/proc/nonexistent/p.png", "--quiet")
	entries, _ := os.ReadDir(out)
	if code == 0 || !strings.Contains(stderr, "preview") || len(entries) != 0 {
		t.Errorf("unwritable --preview: exit %d, %d files written, %q", code, len(entries), stderr)
	}
	st := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(st, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	w, err := store.NewWriter(st, store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, stderr = runCmd("negatives", "--store", st, "--out", t.TempDir(), "--quiet", "--size", "16")
	w.Close()
	if !strings.Contains(stderr, "an ingest is writing this store") {
		t.Errorf("mining a store being written: %q", stderr)
	}
	_, _, stderr = runCmd("negatives", "--store", st, "--out", t.TempDir(), "--quiet", "--size", "16")
	if strings.Contains(stderr, "is writing") {
		t.Errorf("after the writer closed: %q", stderr)
	}
}
