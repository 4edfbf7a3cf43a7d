package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// phantom makes a volume with smooth structure, noise and a uniform region,
// like a CT: air outside a disc, tissue inside, a "lung" label inside that.
func phantom(shape [3]int, seed uint64) ([]int16, []uint8) {
	r := rand.New(rand.NewPCG(seed, 1))
	n := shape[0] * shape[1] * shape[2]
	hu := make([]int16, n)
	lab := make([]uint8, n)
	cy, cx := float64(shape[1])/2, float64(shape[2])/2
	for z := range shape[0] {
		for y := range shape[1] {
			for x := range shape[2] {
				i := (z*shape[1]+y)*shape[2] + x
				dy, dx := float64(y)-cy, float64(x)-cx
				d := dy*dy + dx*dx
				switch {
				case d > cx*cx*0.8:
					hu[i] = -1000
				case d < cx*cx*0.2:
					hu[i] = int16(-850 + r.IntN(60))
					lab[i] = 3 + uint8(x*2/shape[2])
				default:
					hu[i] = int16(40 + r.IntN(30))
				}
			}
		}
	}
	return hu, lab
}

func testScan(uid string, shape [3]int, seed uint64, labels bool) *Scan {
	hu, lab := phantom(shape, seed)
	if !labels {
		lab = nil
	}
	return &Scan{
		Info: ScanInfo{UID: uid, PadHU: -1000, Grid: Geometry{Shape: shape, Spacing: [3]float64{1, 1, 1}, Direction: Identity}},
		HU:   hu, Labels: lab,
	}
}

func writeTestStore(t testing.TB, scans ...*Scan) string {
	t.Helper()
	dir := t.TempDir()
	w, err := NewWriter(dir, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scans {
		if _, err := w.Put(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// refBox cuts a box out of a whole volume the slow, obvious way.
func refBox[T int16 | uint8](vol []T, shape [3]int, b Box, pad T) []T {
	out := make([]T, b.Len())
	for z := range b.D {
		for y := range b.H {
			for x := range b.W {
				vz, vy, vx := b.Z+z, b.Y+y, b.X+x
				v := pad
				if vz >= 0 && vy >= 0 && vx >= 0 && vz < shape[0] && vy < shape[1] && vx < shape[2] {
					v = vol[(vz*shape[1]+vy)*shape[2]+vx]
				}
				out[(z*b.H+y)*b.W+x] = v
			}
		}
	}
	return out
}

func TestRoundTripBoxes(t *testing.T) {
	shape := [3]int{45, 70, 66} // odd sizes: partial chunks on every axis
	sc := testScan("1.2.3", shape, 7, true)
	s, err := Open(writeTestStore(t, sc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.OpenVolume("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	boxes := []Box{
		{Z: 0, Y: 0, X: 0, D: 45, H: 70, W: 66},       // whole volume
		{Z: 10, Y: 20, X: 30, D: 16, H: 16, W: 16},    // inside
		{Z: -5, Y: -7, X: -9, D: 20, H: 20, W: 20},    // sticks out low
		{Z: 40, Y: 60, X: 60, D: 20, H: 20, W: 20},    // sticks out high
		{Z: -10, Y: -10, X: -10, D: 80, H: 90, W: 90}, // covers everything
		{Z: 100, Y: 0, X: 0, D: 4, H: 4, W: 4},        // wholly outside
		{Z: 31, Y: 31, X: 31, D: 2, H: 2, W: 2},       // across chunk corners
	}
	for _, b := range boxes {
		t.Run(fmt.Sprint(b), func(t *testing.T) {
			got := make([]int16, b.Len())
			if err := v.ReadHU(b, -1234, got); err != nil {
				t.Fatal(err)
			}
			if want := refBox(sc.HU, shape, b, -1234); !equal(got, want) {
				t.Errorf("HU box differs from the source in %d voxels", diff(got, want))
			}
			gl := make([]uint8, b.Len())
			if err := v.ReadLabels(b, 9, gl); err != nil {
				t.Fatal(err)
			}
			if want := refBox(sc.Labels, shape, b, 9); !equal(gl, want) {
				t.Errorf("label box differs in %d voxels", diff(gl, want))
			}
		})
	}
	info, _ := lookupOf(t, s, "1.2.3")
	var lung int64
	for _, l := range sc.Labels {
		if IsLung(l) {
			lung++
		}
	}
	if info.LungVoxels != lung || lung == 0 {
		t.Errorf("catalog lung voxels %d, counted %d", info.LungVoxels, lung)
	}
}

func equal[T comparable](a, b []T) bool { return diff(a, b) == 0 }

func diff[T comparable](a, b []T) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestChunkStats(t *testing.T) {
	shape := [3]int{40, 64, 64}
	sc := testScan("s", shape, 3, true)
	s, _ := Open(writeTestStore(t, sc))
	v, err := s.OpenVolume("s")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	st := v.Stats()
	if st.Len() != 2*2*2 {
		t.Fatalf("%d chunks, want 8", st.Len())
	}
	for ci := range st.Len() {
		cz, cy, cx := st.Coords(ci)
		b := Box{Z: cz * 32, Y: cy * 32, X: cx * 32, D: min(32, shape[0]-cz*32), H: 32, W: 32}
		vals := refBox(sc.HU, shape, b, 0)
		labs := refBox(sc.Labels, shape, b, 0)
		lo, hi, lung := vals[0], vals[0], 0
		for i, x := range vals {
			lo, hi = min(lo, x), max(hi, x)
			if IsLung(labs[i]) {
				lung++
			}
		}
		if st.Min(ci) != lo || st.Max(ci) != hi || st.LungCount(ci) != lung || st.Voxels(ci) != len(vals) {
			t.Errorf("chunk %d: index says min %d max %d lung %d voxels %d; data %d %d %d %d",
				ci, st.Min(ci), st.Max(ci), st.LungCount(ci), st.Voxels(ci), lo, hi, lung, len(vals))
		}
	}
}

func TestUniformAndAbsentChunks(t *testing.T) {
	shape := [3]int{64, 64, 64}
	hu := make([]int16, 64*64*64)
	for i := range hu {
		hu[i] = -1000 // the pad value: every chunk is absent
	}
	for i := 0; i < 32*64*64; i++ {
		hu[i] = 7 // the lower half is uniform but not the fill value
	}
	sc := &Scan{Info: ScanInfo{UID: "u", PadHU: -1000, Grid: Geometry{Shape: shape, Direction: Identity}}, HU: hu}
	dir := writeTestStore(t, sc)
	s, _ := Open(dir)
	v, err := s.OpenVolume("u")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for ci := range 8 {
		off, _ := v.hu.index[2*ci], 0
		cz, _, _ := v.stats.Coords(ci)
		if (off == absent) != (cz == 1) {
			t.Errorf("chunk %d: stored=%v, want stored only for the non-fill half", ci, off != absent)
		}
	}
	// Corrupt every stored chunk: reads must still succeed, because the
	// index shows them uniform and they are never decoded.
	path := filepath.Join(dir, "scans", "u", "hu", "c", "0", "0", "0")
	v.Close()
	b, _ := os.ReadFile(path)
	for i := 0; i < 40; i++ {
		b[i] ^= 0xff
	}
	os.WriteFile(path, b, 0o644)
	v, err = s.OpenVolume("u")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int16, 64*64*64)
	if err := v.ReadHU(Cube(0, 0, 0, 64), 0, got); err != nil {
		t.Fatalf("a uniform chunk was decoded: %v", err)
	}
	if !equal(got, hu) {
		t.Error("uniform read differs")
	}
}

func TestCorruption(t *testing.T) {
	shape := [3]int{40, 40, 40}
	tests := []struct {
		name    string
		damage  func(t *testing.T, scan string)
		is      error  // a sentinel the error wraps, if any
		array   string // the damaged array a *CorruptionError names; "" for a plain error
		onRead  bool   // the error comes on reading a box, not on opening
		inChunk bool   // the CorruptionError names the chunk
	}{
		{"flip a chunk byte", func(t *testing.T, scan string) { flip(t, filepath.Join(scan, "hu", shardKey), 30) }, ErrChecksum, "hu", true, true},
		{"flip an index byte", func(t *testing.T, scan string) { flipFromEnd(t, filepath.Join(scan, "hu", shardKey), 20) }, ErrChecksum, "hu", false, false},
		{"truncate the shard", func(t *testing.T, scan string) { truncate(t, filepath.Join(scan, "hu", shardKey), 100) }, nil, "hu", false, false},
		{"empty shard", func(t *testing.T, scan string) { truncate(t, filepath.Join(scan, "hu", shardKey), 0) }, nil, "hu", false, false},
		{"delete the shard", func(t *testing.T, scan string) { os.Remove(filepath.Join(scan, "hu", shardKey)) }, fs.ErrNotExist, "", false, false},
		{"delete the label shard", func(t *testing.T, scan string) { os.Remove(filepath.Join(scan, "lung", shardKey)) }, fs.ErrNotExist, "", false, false},
		{"broken array json", func(t *testing.T, scan string) {
			os.WriteFile(filepath.Join(scan, "hu", "zarr.json"), []byte("{"), 0o644)
		}, nil, "hu", false, false},
		{"broken chunk index", func(t *testing.T, scan string) { flip(t, filepath.Join(scan, "chunks", "c/0/0/0/0"), 3) }, ErrChecksum, "chunks", false, false},
		{"index points past the end", func(t *testing.T, scan string) { pointPastEnd(t, filepath.Join(scan, "hu", shardKey), 3) }, nil, "hu", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTestStore(t, testScan("x.1", shape, 1, true))
			tc.damage(t, filepath.Join(dir, "scans", "x.1"))
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.OpenVolume("x.1")
			if err == nil {
				defer v.Close()
				buf := make([]int16, 40*40*40)
				err = v.ReadHU(Cube(0, 0, 0, 40), 0, buf)
				if err != nil && !tc.onRead {
					t.Errorf("error came on read, expected on open: %v", err)
				}
			}
			if err == nil || !strings.Contains(err.Error(), "x.1") {
				t.Fatalf("got %v, want an error naming the scan", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want it to wrap %v", err, tc.is)
			}
			var ce *CorruptionError
			switch {
			case tc.array == "" && errors.As(err, &ce):
				t.Errorf("a missing file is not corruption: %v", err)
			case tc.array != "" && !errors.As(err, &ce):
				t.Errorf("got %v (%T), want a *CorruptionError", err, err)
			case tc.array != "" && (ce.Scan != "x.1" || ce.Array != tc.array || (ce.Chunk != nil) != tc.inChunk):
				t.Errorf("got %+v, want scan x.1, array %s, chunk named %v", ce, tc.array, tc.inChunk)
			}
		})
	}
}

func flip(t *testing.T, path string, at int) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x5a
	os.WriteFile(path, b, 0o644)
}

func flipFromEnd(t *testing.T, path string, back int) {
	b, _ := os.ReadFile(path)
	flip(t, path, len(b)-back)
}

func truncate(t *testing.T, path string, n int64) {
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

// pointPastEnd rewrites index entry k to point beyond the data, with a
// valid index CRC, so only the bounds check can catch it.
func pointPastEnd(t *testing.T, path string, k int) {
	b, _ := os.ReadFile(path)
	n := 8 // 40³ → 2×2×2 chunks
	idx := b[len(b)-16*n-4 : len(b)-4]
	putU64(idx[16*k:], uint64(len(b)))
	putU64(idx[16*k+8:], 100)
	c := crc(idx)
	b[len(b)-4], b[len(b)-3], b[len(b)-2], b[len(b)-1] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
	os.WriteFile(path, b, 0o644)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); !errors.Is(err, ErrNotStore) {
		t.Errorf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "zarr.json"), []byte(`{"zarr_format":3,"node_type":"group"`), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "zarr.json") {
		t.Errorf("broken root: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "zarr.json"), []byte(`{"zarr_format":3,"node_type":"group","attributes":{}}`), 0o644)
	if _, err := Open(dir); !errors.Is(err, ErrNotStore) {
		t.Errorf("foreign group: %v", err)
	}
	dir = writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, false))
	Compact(dir)
	os.WriteFile(filepath.Join(dir, "catalog.jsonl"), []byte(`{"voxmine":"catalog"}`+"\n"+`{"seriesuid": "a", `), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "catalog.jsonl") {
		t.Errorf("broken catalog: %v", err)
	}
	s := func() *Store {
		d := writeTestStore(t, testScan("a", [3]int{8, 8, 8}, 1, false))
		s, _ := Open(d)
		return s
	}()
	if _, err := s.OpenVolume("nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown uid: %v", err)
	}
}

func TestRewriteIsAtomicUnderLiveMapping(t *testing.T) {
	shape := [3]int{33, 33, 33}
	a := testScan("r", shape, 1, true)
	dir := writeTestStore(t, a)
	s, _ := Open(dir)
	v, err := s.OpenVolume("r")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	w, _ := NewWriter(dir, WriteOptions{})
	b := testScan("r", shape, 2, true)
	if _, err := w.Put(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// The old mapping still reads the old data.
	got := make([]int16, shape[0]*shape[1]*shape[2])
	if err := v.ReadHU(Box{Z: 0, Y: 0, X: 0, D: 33, H: 33, W: 33}, 0, got); err != nil || !equal(got, a.HU) {
		t.Fatalf("old mapping broke after rewrite: %v", err)
	}
	s2, _ := Open(dir)
	v2, err := s2.OpenVolume("r")
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.ReadHU(Box{Z: 0, Y: 0, X: 0, D: 33, H: 33, W: 33}, 0, got); err != nil || !equal(got, b.HU) {
		t.Fatalf("new store does not read the new data: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "scans"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestConcurrentReaders(t *testing.T) {
	shape := [3]int{70, 70, 70}
	sc := testScan("c", shape, 5, true)
	s, _ := Open(writeTestStore(t, sc), Options{CacheBytes: 8 * 65536}) // a small cache: lots of eviction
	v, err := s.OpenVolume("c")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 0))
			buf := make([]int16, 20*20*20)
			for range 200 {
				b := Cube(r.IntN(70)-10, r.IntN(70)-10, r.IntN(70)-10, 20)
				if err := v.ReadHU(b, -5, buf); err != nil {
					t.Error(err)
					return
				}
				if !equal(buf, refBox(sc.HU, shape, b, -5)) {
					t.Errorf("box %v differs", b)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestConcurrentWriterProcesses runs several processes that write disjoint
// scans into one store at once; the catalog must list every scan once.
func TestConcurrentWriterProcesses(t *testing.T) {
	if dir := os.Getenv("VOXMINE_TEST_WRITER_DIR"); dir != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	const procs, each = 4, 6
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterChild$")
		cmd.Env = append(os.Environ(), "VOXMINE_TEST_WRITER_DIR="+dir, "VOXMINE_TEST_WRITER_ID="+strconv.Itoa(p),
			"VOXMINE_TEST_WRITER_N="+strconv.Itoa(each))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(out.String())
			}
		})
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, sc := range scansOf(t, s) {
		seen[sc.UID]++
	}
	if len(seen) != procs*each {
		t.Fatalf("catalog lists %d scans, want %d", len(seen), procs*each)
	}
	f, _ := s.Findings()
	if len(f.Series) != procs {
		t.Errorf("findings of %d series, want %d", len(f.Series), procs)
	}
	if n, _, err := Rebuild(dir); err != nil || n != procs*each {
		t.Errorf("rebuild found %d scans (%v)", n, err)
	}
}

func TestWriterChild(t *testing.T) {
	dir := os.Getenv("VOXMINE_TEST_WRITER_DIR")
	if dir == "" {
		t.Skip("only run as a child of TestConcurrentWriterProcesses")
	}
	id, _ := strconv.Atoi(os.Getenv("VOXMINE_TEST_WRITER_ID"))
	n, _ := strconv.Atoi(os.Getenv("VOXMINE_TEST_WRITER_N"))
	w, err := NewWriter(dir, WriteOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := w.Put(context.Background(), testScan(fmt.Sprintf("p%d.s%d", id, i), [3]int{8, 8, 8}, uint64(i), false)); err != nil {
			t.Fatal(err)
		}
	}
	uid := fmt.Sprintf("p%d.s0", id)
	mine := func(u string) bool { return strings.HasPrefix(u, fmt.Sprintf("p%d.", id)) }
	if err := w.SetFindings(&Findings{Series: map[string]*SeriesFindings{uid: {Annotations: []Finding{{X: 1, Y: 2, Z: 3, Diameter: 4, Class: -1}}}},
		Sources: map[string]string{"annotations": "test"}}, mine); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogJSON: after Compact, catalog.jsonl alone lists every scan, in
// order, with its record, one JSON object a line after the header.
func TestCatalogJSON(t *testing.T) {
	dir := writeTestStore(t, testScan("b", [3]int{8, 8, 8}, 1, false), testScan("a", [3]int{8, 8, 8}, 1, true))
	if err := Compact(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, journalFile)); err == nil {
		t.Error("the journal outlived Compact")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "catalog.jsonl"))
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var head struct {
		Table   string  `json:"voxmine"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &head); err != nil || head.Table != "catalog" || head.Summary.Scans != 2 || head.Summary.WithLabels != 1 {
		t.Errorf("header %s: %v", lines[0], err)
	}
	var c []ScanInfo
	for _, l := range lines[1:] {
		var info ScanInfo
		if err := json.Unmarshal([]byte(l), &info); err != nil {
			t.Fatal(err)
		}
		c = append(c, info)
	}
	if len(c) != 2 || c[0].UID != "a" || !c[0].HasLabels || c[1].HasLabels || c[0].StoredBytes <= 0 {
		t.Errorf("catalog: %+v", c)
	}
}

// TestWarmReadDoesNotAllocate: once a box's chunks are cached, reading it
// again allocates nothing.
func TestWarmReadDoesNotAllocate(t *testing.T) {
	sc := testScan("a", [3]int{64, 64, 64}, 1, true)
	s, _ := Open(writeTestStore(t, sc))
	v, err := s.OpenVolume("a")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	buf := make([]int16, 40*40*40)
	box := Cube(10, 10, 10, 40)
	v.ReadHU(box, 0, buf)
	if n := testing.AllocsPerRun(20, func() { v.ReadHU(box, 0, buf) }); n != 0 {
		t.Errorf("a warm read allocates %.0f times", n)
	}
}

func TestCheckHookSetsFlags(t *testing.T) {
	sc := testScan("f", [3]int{20, 20, 20}, 1, true)
	var seen ScanInfo
	sc.Check = func(i ScanInfo) []string {
		seen = i
		return []string{"lung volume tiny"}
	}
	s, _ := Open(writeTestStore(t, sc))
	info, _ := lookupOf(t, s, "f")
	if len(info.Flags) != 1 || info.Flags[0] != "lung volume tiny" {
		t.Errorf("flags %v", info.Flags)
	}
	if seen.LungVoxels == 0 || seen.LungVoxels != info.LungVoxels || seen.LabelCounts["3"] == 0 {
		t.Errorf("Check saw %d lung voxels and counts %v; the record has %d", seen.LungVoxels, seen.LabelCounts, info.LungVoxels)
	}
}

// TestCloseWhileReading closes a volume, and the store, while goroutines
// read from it: every read either succeeds with the right data or fails
// with ErrClosed, and none touches unmapped memory (run under -race).
func TestCloseWhileReading(t *testing.T) {
	shape := [3]int{64, 64, 64}
	sc := testScan("x.1", shape, 3, true)
	dir := writeTestStore(t, sc)
	for _, closeStore := range []bool{false, true} {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.OpenVolume("x.1")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		var okReads, closedReads atomic.Int64
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]int16, 20*20*20)
				lab := make([]uint8, 20*20*20)
				<-start
				for i := 0; ; i++ {
					b := Cube((g*7+i)%44, (i*3)%44, (i*5)%44, 20)
					err := v.ReadHU(b, 0, buf)
					if err == nil {
						_, err = v.CountLung(b)
					}
					if err == nil {
						err = v.ReadLabels(b, 0, lab)
					}
					if errors.Is(err, ErrClosed) {
						closedReads.Add(1)
						return
					}
					if err != nil {
						t.Errorf("read: %v", err)
						return
					}
					if buf[0] != sc.HU[(b.Z*shape[1]+b.Y)*shape[2]+b.X] {
						t.Errorf("read %+v: wrong data", b)
						return
					}
					okReads.Add(1)
				}
			}()
		}
		close(start)
		for okReads.Load() < 20 {
			runtime.Gosched()
		}
		if closeStore {
			err = s.Close()
		} else {
			err = v.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if closedReads.Load() != 4 {
			t.Errorf("%d of 4 readers saw ErrClosed", closedReads.Load())
		}
		buf := make([]int16, 8)
		if err := v.ReadHU(Cube(0, 0, 0, 2), 0, buf); !errors.Is(err, ErrClosed) {
			t.Errorf("read after close: %v, want ErrClosed", err)
		}
		if err := v.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if closeStore {
			if _, err := s.OpenVolume("x.1"); !errors.Is(err, ErrClosed) {
				t.Errorf("OpenVolume after store Close: %v, want ErrClosed", err)
			}
			if _, err := s.Findings(); !errors.Is(err, ErrClosed) {
				t.Errorf("Findings after store Close: %v, want ErrClosed", err)
			}
		}
	}
}

// TestCountLung checks the eight-at-a-time lung count against a plain
// loop on rows of every length up to 40 and every label value.
func TestCountLung(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 41 {
		for range 50 {
			row := make([]byte, n)
			for i := range row {
				row[i] = byte(r.IntN(7))
				if r.IntN(10) == 0 {
					row[i] = byte(r.IntN(256))
				}
			}
			want := 0
			for _, l := range row {
				if IsLung(l) {
					want++
				}
			}
			if got := countLung(row); got != want {
				t.Fatalf("row %v: %d lung labels, counted %d", row, want, got)
			}
		}
	}
}

// scansOf returns every scan of s, failing the test when the catalog
// cannot be read.
func scansOf(t testing.TB, s *Store) []ScanInfo {
	t.Helper()
	scans, err := s.Scans()
	if err != nil {
		t.Fatal(err)
	}
	return scans
}

// lookupOf returns the record of uid, failing the test when the catalog
// cannot be read.
func lookupOf(t testing.TB, s *Store, uid string) (ScanInfo, bool) {
	t.Helper()
	info, ok, err := s.Lookup(uid)
	if err != nil {
		t.Fatal(err)
	}
	return info, ok
}

// TestOpenVolumeRefusesImplausibleGrids: a catalog record and zarr.json
// altered alike to a grid no scan has fail that scan with a
// CorruptionError, before the shape sizes anything. The last shape's chunk
// counts multiply to 2⁶⁴ − 1, which wraps to −1.
func TestOpenVolumeRefusesImplausibleGrids(t *testing.T) {
	for _, shape := range [][3]int{
		{0, 8, 8},
		{-40, 8, 8},
		{8, 1 << 17, 8},
		{1 << 40, 1 << 40, 1 << 40},
		{255 * ChunkSize, 72340172838076673 * ChunkSize, ChunkSize},
	} {
		dir := writeTestStore(t, testScan("1.2.3", [3]int{8, 8, 8}, 1, false))
		if err := Compact(dir); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, catalogFile))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		var info ScanInfo
		if err := json.Unmarshal([]byte(lines[1]), &info); err != nil {
			t.Fatal(err)
		}
		info.Grid.Shape = shape
		rec, _ := json.Marshal(info)
		lines[1] = string(rec)
		if err := os.WriteFile(filepath.Join(dir, catalogFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		meta := filepath.Join(scanDir(dir, "1.2.3"), huArray, "zarr.json")
		zb, err := os.ReadFile(meta)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(zb, &m); err != nil {
			t.Fatal(err)
		}
		m["shape"] = shape[:]
		zb, _ = json.Marshal(m)
		if err := os.WriteFile(meta, zb, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.OpenVolume("1.2.3")
		var ce *CorruptionError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "axis outside") {
			t.Errorf("grid %v: %v, want a CorruptionError", shape, err)
		}
		if v != nil {
			v.Close()
		}
		s.Close()
	}
}

// FuzzVolumeMetadata: no content of a scan's three zarr.json files or of
// its chunk index makes opening or reading the scan panic; what fails is
// a CorruptionError or the file system's error.
func FuzzVolumeMetadata(f *testing.F) {
	dir := writeTestStore(f, testScan("1.2.3", [3]int{40, 9, 33}, 1, true))
	scan := scanDir(dir, "1.2.3")
	files := []string{
		filepath.Join(scan, huArray, "zarr.json"),
		filepath.Join(scan, labelArray, "zarr.json"),
		filepath.Join(scan, chunksArray, "zarr.json"),
		filepath.Join(scan, chunksArray, "c", "0", "0", "0", "0"),
	}
	orig := make([][]byte, len(files))
	for i, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		orig[i] = b
		f.Add(uint8(i), b)
	}
	f.Add(uint8(0), []byte(`{"zarr_format":3,"node_type":"array","data_type":"int16","shape":[40,9,-33]}`))
	f.Add(uint8(2), []byte(`{"zarr_format":3,"node_type":"array","shape":[2,1,2,1000000000]}`))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		k := int(which) % len(files)
		for i, p := range files {
			data := orig[i]
			if i == k {
				data = b
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err) // the catalog is untouched
		}
		defer s.Close()
		typed := func(what string, err error) {
			var ce *CorruptionError
			var pe *fs.PathError
			if err != nil && !errors.As(err, &ce) && !errors.As(err, &pe) {
				t.Fatalf("%s: %T %v", what, err, err)
			}
		}
		v, err := s.OpenVolume("1.2.3")
		if err != nil {
			typed("open", err)
			return
		}
		defer v.Close()
		box := Box{Z: -3, Y: 2, X: 20, D: 16, H: 16, W: 16}
		typed("hu", v.ReadHU(box, -1000, make([]int16, box.Len())))
		typed("labels", v.ReadLabels(box, 0, make([]uint8, box.Len())))
		_ = v.Stats().Len()
	})
}
