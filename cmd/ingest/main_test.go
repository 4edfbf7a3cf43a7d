package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"voxmine/internal/testenv"
	"voxmine/store"
	"voxmine/store/storetest"
)

func runCmd(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(args, &out, &out)
	return code, out.String()
}

func TestUsage(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing", nil, 2, "required"},
		{"help", []string{"--help"}, 0, "Examples"},
		{"bad shard", []string{"--src", t.TempDir(), "--out", t.TempDir(), "--shard", "3/2"}, 2, "I/N"},
		{"missing src", []string{"--src", "/nonexistent", "--out", t.TempDir()}, 2, "not a folder"},
		{"bad lung", []string{"--src", t.TempDir(), "--out", t.TempDir(), "--lung", "maybe"}, 2, "lung mode"},
		{"synthetic into a full folder", []string{"--synthetic", "1", "--src", full}, 2, "not empty"},
		{"stray argument", []string{"foo"}, 2, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d (want %d): %q, want %q", code, tc.code, out, tc.want)
			}
		})
	}
}

func TestSyntheticWithBrokenScansExitsOne(t *testing.T) {
	testenv.SkipUnderRace(t) // error reporting, no concurrency of its own
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	code, out := runCmd("--synthetic", "1", "--small", "--variants", "--src", src, "--out", st, "--quiet")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"CT scans mapped: 8 | masks found: 5", "ingested 5", "3 scans failed", "missing key DimSize", "truncated", "MET_FLOAT_MATRIX"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Each failure names its file once (it read "x.mhd: x.mhd: missing key
	// DimSize", and the truncated file three times).
	_, failures, _ := strings.Cut(out, "3 scans failed:\n")
	for _, line := range strings.Split(strings.TrimSpace(failures), "\n") {
		path, _, _ := strings.Cut(strings.TrimSpace(line), ": ")
		if n := strings.Count(line, filepath.Base(path)); n != 1 || !strings.HasSuffix(path, ".mhd") {
			t.Errorf("%q names %s %d times", line, filepath.Base(path), n)
		}
	}
	// Run again: everything stored is current, the broken ones fail again.
	code, out = runCmd("--src", src, "--out", st, "--masks", filepath.Join(src, "seg-lungs-LUNA16"), "--quiet")
	if code != 1 || !strings.Contains(out, "already current 5") {
		t.Errorf("rerun: exit %d\n%s", code, out)
	}
	if code, out := runCmd("--repair", "--out", st); code != 0 || !strings.Contains(out, "5 scans") {
		t.Errorf("repair: %d %s", code, out)
	}
}

// TestRepairRebuildsABrokenCatalog: a catalog that is truncated, empty,
// garbage or gone is rebuilt by --repair from the scan folders, and the
// error that meets a reader before that names the remedy.
func TestRepairRebuildsABrokenCatalog(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	if code, out := runCmd("--synthetic", "2", "--small", "--src", src, "--out", st, "--quiet"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// The scans' records are in the journal (catalog.log) until it is
	// folded into catalog.jsonl: damage both.
	journal := filepath.Join(st, "catalog.log")
	records, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Compact(st); err != nil {
		t.Fatal(err)
	}
	catalog := filepath.Join(st, "catalog.jsonl")
	good, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func()
	}{
		{"journal with a bad record", func() { os.WriteFile(journal, append([]byte("{not json}\n"), records...), 0o644) }},
		{"truncated", func() { os.WriteFile(catalog, good[:len(good)/2], 0o644) }},
		{"empty", func() { os.WriteFile(catalog, nil, 0o644) }},
		{"garbage", func() { os.WriteFile(catalog, []byte("\x00\xff not json"), 0o644) }},
		{"deleted", func() { os.Remove(catalog) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage()
			if tc.name != "deleted" {
				_, err := store.Open(st)
				var ce *store.CatalogError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "ingest --repair") {
					t.Errorf("open: %v, want a CatalogError that names ingest --repair", err)
				}
			}
			if code, out := runCmd("--repair", "--out", st); code != 0 || !strings.Contains(out, "2 scans") {
				t.Fatalf("repair: exit %d\n%s", code, out)
			}
			s, err := store.Open(st)
			if err != nil || len(storetest.Scans(t, s)) != 2 {
				t.Fatalf("after repair: %v", err)
			}
		})
	}
}

// TestLoadFindingsWithoutReading: --out with CSVs and no --src loads them
// into the store without re-reading a scan, each CSV replacing its kind.
func TestLoadFindingsWithoutReading(t *testing.T) {
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	if code, out := runCmd("--synthetic", "2", "--small", "--seed", "3", "--src", src, "--out", st, "--quiet"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	before := openStore(t, st)
	uids := []string{storetest.Scans(t, before)[0].UID, storetest.Scans(t, before)[1].UID}
	f0, err := before.FindingsWithCandidates()
	if err != nil {
		t.Fatal(err)
	}
	if sf := f0.Series[uids[1]]; sf == nil || len(sf.Annotations) == 0 {
		uids[0], uids[1] = uids[1], uids[0] // the second must have a nodule to lose
	}
	if sf := f0.Series[uids[1]]; sf == nil || len(sf.Annotations) == 0 {
		t.Fatal("neither phantom has a nodule")
	}
	// A corrected annotations.csv: one nodule on the first scan, none on
	// the second, one row for a series the store does not hold.
	csv := filepath.Join(dir, "corrected.csv")
	os.WriteFile(csv, []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n"+
		uids[0]+",1.5,-2,-100,7.25\n1.2.3.not.stored,0,0,0,5\n"), 0o644)
	code, out := runCmd("--out", st, "--annotations", csv)
	if code != 0 || !strings.Contains(out, "annotations: 2 rows of 2 series, 1 of them among the 2 stored scans (1 rows for series not stored)") ||
		!strings.Contains(out, "no scan read") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	after := openStore(t, st)
	f1, err := after.FindingsWithCandidates()
	if err != nil {
		t.Fatal(err)
	}
	if a := f1.Series[uids[0]].Annotations; len(a) != 1 || a[0].Diameter != 7.25 {
		t.Errorf("%s: annotations %v, want the corrected one", uids[0], a)
	}
	if sf := f1.Series[uids[1]]; sf != nil && len(sf.Annotations) > 0 {
		t.Errorf("%s kept %d annotations the corrected CSV does not have", uids[1], len(sf.Annotations))
	}
	for _, uid := range uids {
		if f0.Series[uid] == nil {
			continue
		}
		if len(f1.Series[uid].Candidates) != len(f0.Series[uid].Candidates) || len(f1.Series[uid].Excluded) != len(f0.Series[uid].Excluded) {
			t.Errorf("%s: candidates or excluded changed though no such CSV was loaded", uid)
		}
	}
	for i, s := range storetest.Scans(t, after) {
		if s.VolumeUUID != storetest.Scans(t, before)[i].VolumeUUID {
			t.Errorf("%s was re-ingested", s.UID)
		}
	}
	if code, out := runCmd("--out", filepath.Join(dir, "nostore"), "--annotations", csv); code != 2 || !strings.Contains(out, "does not exist") {
		t.Errorf("into a missing store: exit %d %s", code, out)
	}
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestUIDsSelectScans: --uids ingests only the listed series (here from a
// LUNA16-style table) and says which listed ones were not found.
func TestUIDsSelectScans(t *testing.T) {
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	if code, out := runCmd("--synthetic", "2", "--small", "--seed", "5", "--src", src, "--quiet"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	s0 := filepath.Join(dir, "all")
	if code, out := runCmd("--src", src, "--out", s0, "--quiet", "--lung", "none"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	all := storetest.Scans(t, openStore(t, s0))
	if len(all) != 2 {
		t.Fatalf("%d scans", len(all))
	}
	list := filepath.Join(dir, "table.csv")
	os.WriteFile(list, []byte("seriesuid,coordX,coordY,coordZ,diameter_mm\n"+all[1].UID+",1,2,3,4\n1.2.3.missing,1,2,3,4\n"), 0o644)
	code, out := runCmd("--src", src, "--out", st, "--quiet", "--lung", "none", "--uids", list)
	if code != 0 || !strings.Contains(out, "1 of them; 1 listed series not found") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	got := storetest.Scans(t, openStore(t, st))
	if len(got) != 1 || got[0].UID != all[1].UID {
		t.Errorf("stored %v, want only %s", got, all[1].UID)
	}
}

// TestMaskFallbacksAreSaid: --masks naming a folder that holds no mask of
// a scan. With --lung masks the scan fails (it was stored without labels,
// and mining then fell back to the HU test); with --lung auto its lungs
// are computed and every such scan is said, with a mask file that nearly
// matches its uid named.
func TestMaskFallbacksAreSaid(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if code, out := runCmd("--synthetic", "2", "--small", "--src", src, "--quiet"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	masks := filepath.Join(dir, "masks")
	os.MkdirAll(masks, 0o755)
	// One mask renamed as people do (uid_mask.mhd), pointing at its .zraw.
	orig, _ := filepath.Glob(filepath.Join(src, "seg-lungs-LUNA16", "*.mhd"))
	uid := strings.TrimSuffix(filepath.Base(orig[0]), ".mhd")
	hdr, _ := os.ReadFile(orig[0])
	data := strings.TrimSpace(strings.SplitN(string(hdr), "ElementDataFile = ", 2)[1])
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(orig[0]), data))
	os.WriteFile(filepath.Join(masks, data), b, 0o644)
	os.WriteFile(filepath.Join(masks, uid+"_mask.mhd"), hdr, 0o644)

	code, out := runCmd("--src", src, "--out", filepath.Join(dir, "strict"), "--masks", masks, "--lung", "masks", "--quiet")
	if code != 1 || !strings.Contains(out, "no mask for this scan") || !strings.Contains(out, uid+"_mask.mhd") {
		t.Errorf("--lung masks without masks: exit %d\n%s", code, out)
	}
	code, out = runCmd("--src", src, "--out", filepath.Join(dir, "auto"), "--masks", masks, "--quiet")
	if code != 0 || strings.Count(out, "\nFALLBACK ") != 2 || !strings.Contains(out, "lungs computed") {
		t.Errorf("--lung auto without masks: exit %d\n%s", code, out)
	}
}

// TestFormatOneStoreResumes: a store written in format 1 (its catalog and
// findings one JSON document each), ingested into again from the same
// source, is migrated to format 2 and finds every scan current: nothing
// is ingested twice, and the scans and findings read as before.
func TestFormatOneStoreResumes(t *testing.T) {
	testenv.SkipUnderRace(t)
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	if code, out := runCmd("--synthetic", "2", "--small", "--src", src, "--out", st, "--quiet"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	s := openStore(t, st)
	before := storetest.Scans(t, s)
	f, err := s.FindingsWithCandidates()
	if err != nil || f.Counts.Annotations == 0 {
		t.Fatalf("findings %v, %v", f, err)
	}
	s.Close()
	// Rewrite it as voxmine wrote format 1.
	var legacy []store.ScanInfo
	for _, sc := range before {
		sc.StoredBytes = 0
		legacy = append(legacy, sc)
	}
	series := map[string]any{}
	cands := map[string][][5]float64{}
	for uid, sf := range f.Series {
		if len(sf.Annotations) > 0 {
			series[uid] = map[string]any{"annotations": sf.Annotations, "excluded": sf.Excluded, "from": sf.From}
		}
		for _, c := range sf.Candidates {
			cands[uid] = append(cands[uid], [5]float64{c.X, c.Y, c.Z, c.Diameter, float64(c.Class)})
		}
	}
	writeJSON := func(name string, v any) {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(st, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeJSON("catalog.json", map[string]any{"format": "1.0", "scans": legacy})
	writeJSON("findings.json", map[string]any{"format": "1.0", "series": series, "sources": f.Sources})
	writeJSON("candidates.json", map[string]any{"format": "1.0", "series": cands})
	for _, name := range []string{"catalog.jsonl", "catalog.log", "findings.jsonl", "candidates.jsonl"} {
		os.Remove(filepath.Join(st, name))
	}
	root, _ := os.ReadFile(filepath.Join(st, "zarr.json"))
	if !bytes.Contains(root, []byte(`"format_version": "2.0"`)) {
		t.Fatalf("zarr.json does not say format 2.0:\n%s", root)
	}
	os.WriteFile(filepath.Join(st, "zarr.json"), bytes.Replace(root, []byte(`"format_version": "2.0"`), []byte(`"format_version": "1.0"`), 1), 0o644)

	code, out := runCmd("--src", src, "--out", st)
	if code != 0 || !strings.Contains(out, "ingested 0, already current 2") {
		t.Fatalf("exit %d: want both scans current\n%s", code, out)
	}
	for _, name := range []string{"catalog.json", "findings.json", "candidates.json"} {
		if _, err := os.Stat(filepath.Join(st, name)); err == nil {
			t.Errorf("%s outlived the migration", name)
		}
	}
	s = openStore(t, st)
	defer s.Close()
	if s.Root().Format != store.FormatVersion {
		t.Errorf("format %s after the migration", s.Root().Format)
	}
	after := storetest.Scans(t, s)
	if len(after) != len(before) {
		t.Fatalf("%d scans after, %d before", len(after), len(before))
	}
	for i := range after {
		if after[i].VolumeUUID != before[i].VolumeUUID || after[i].StoredBytes != before[i].StoredBytes {
			t.Errorf("%s: volume %s → %s, %d → %d stored bytes", after[i].UID, before[i].VolumeUUID, after[i].VolumeUUID, before[i].StoredBytes, after[i].StoredBytes)
		}
	}
	g, err := s.FindingsWithCandidates()
	if err != nil || !reflect.DeepEqual(g.Counts, f.Counts) {
		t.Errorf("findings after: %+v, %v; before %+v", g.Counts, err, f.Counts)
	}
}
