package store

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"voxmine/internal/testenv"
)

// needTool skips a test whose outside tool is missing, except under CI,
// where the test must fail: a conformance test that silently skips proves
// nothing.
func needTool(t *testing.T, what string, err error) {
	t.Helper()
	testenv.Require(t, "conformance test: "+what, err)
}

// zarritaDir installs zarrita once into a cache folder and returns it.
func zarritaDir(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("node")
	needTool(t, "node not found", err)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "voxmine-zarrita")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "read.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "zarrita", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "zarrita", "package.json")); err != nil {
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			needTool(t, "npm install zarrita: "+string(out), err)
		}
	}
	return dir
}

func TestZarritaReadsStore(t *testing.T) {
	zdir := zarritaDir(t)
	scans := []*Scan{
		testScan("1.3.6.1.4.1.14519.5.2.1.6279.6001.100", [3]int{45, 70, 66}, 11, true),
		testScan("1.3.6.1.4.1.14519.5.2.1.6279.6001.200", [3]int{33, 32, 40}, 12, false),
	}
	dir := writeTestStore(t, scans...)
	out := t.TempDir()
	cmd := exec.Command("node", filepath.Join(zdir, "read.mjs"), dir, out)
	cmd.Dir = zdir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zarrita failed: %v\n%s", err, b)
	}
	var report struct {
		Root  map[string]any `json:"root"`
		Scans map[string]struct {
			Attrs  map[string]json.RawMessage `json:"attrs"`
			Arrays map[string]struct {
				Shape []int  `json:"shape"`
				Dtype string `json:"dtype"`
				File  string `json:"file"`
			} `json:"arrays"`
		} `json:"scans"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if _, ok := report.Root["voxmine"]; !ok {
		t.Error("zarrita does not see the root's voxmine attributes")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scans {
		uid := sc.Info.UID
		r, ok := report.Scans[uid]
		if !ok {
			t.Fatalf("zarrita did not read %s", uid)
		}
		var attrs ScanInfo
		if err := json.Unmarshal(r.Attrs["voxmine"], &attrs); err != nil || attrs.UID != uid {
			t.Errorf("%s: group attributes %v", uid, err)
		}
		v, err := s.OpenVolume(uid)
		if err != nil {
			t.Fatal(err)
		}
		shape := sc.Info.Grid.Shape
		hu := r.Arrays["hu"]
		if hu.Dtype != "int16" || len(hu.Shape) != 3 || hu.Shape[0] != shape[0] || hu.Shape[1] != shape[1] || hu.Shape[2] != shape[2] {
			t.Errorf("%s: zarrita sees hu as %s %v", uid, hu.Dtype, hu.Shape)
		}
		got, _ := os.ReadFile(hu.File)
		if !bytes.Equal(got, asBytes(sc.HU)) {
			t.Errorf("%s: zarrita's HU differ from the source in %d voxels", uid, diff(asValues[int16](got), sc.HU))
		}
		lung, has := r.Arrays["lung"]
		if has != (sc.Labels != nil) {
			t.Errorf("%s: zarrita sees a label array: %v", uid, has)
		} else if has {
			got, _ := os.ReadFile(lung.File)
			if !bytes.Equal(got, sc.Labels) {
				t.Errorf("%s: zarrita's labels differ in %d voxels", uid, diff(got, sc.Labels))
			}
		}
		st := r.Arrays["chunks"]
		got, _ = os.ReadFile(st.File)
		mine := v.Stats().data
		if len(got) != 4*len(mine) {
			t.Fatalf("%s: chunk index of %d bytes", uid, len(got))
		}
		for i, f := range mine {
			if math.Float32frombits(uint32(got[4*i])|uint32(got[4*i+1])<<8|uint32(got[4*i+2])<<16|uint32(got[4*i+3])<<24) != f {
				t.Fatalf("%s: chunk index value %d differs", uid, i)
			}
		}
		v.Close()
	}
}
