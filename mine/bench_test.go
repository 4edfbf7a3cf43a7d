package mine_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"voxmine/ingest"
	"voxmine/ingest/metaimage"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
)

// benchStore is VOXMINE_BENCH_STORE (a store of full-size scans, made by
// bench/run.sh) or the small test fixture.
func benchStore(b *testing.B) *store.Store {
	dir := os.Getenv("VOXMINE_BENCH_STORE")
	if dir == "" {
		f, err := fix()
		if err != nil {
			b.Fatal(err)
		}
		dir = f.store
	}
	s, err := store.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchPerScan is VOXMINE_BENCH_PER_SCAN, by default 1: the notebook's
// one background cube per scan, where its whole-scan resampling hurts most.
var benchPerScan = func() int {
	if n, err := strconv.Atoi(os.Getenv("VOXMINE_BENCH_PER_SCAN")); err == nil && n > 0 {
		return n
	}
	return 1
}()

// BenchmarkNegatives mines benchPerScan negatives per scan, 64³ float16, and reports
// patches per second, with 1 and 2 workers.
func BenchmarkNegatives(b *testing.B) {
	s := benchStore(b)
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			n := 0
			t0 := time.Now()
			for b.Loop() {
				o := mine.DefaultOutput(b.TempDir())
				o.Workers = workers
				p := mine.DefaultNegatives()
				p.PerScan = benchPerScan
				res, err := mine.Negatives(context.Background(), s, o, p)
				if err != nil {
					b.Fatal(err)
				}
				n += res.Patches
			}
			b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "patches/s")
		})
	}
}

// BenchmarkPositives cuts a cube on every nodule of the store.
func BenchmarkPositives(b *testing.B) {
	s := benchStore(b)
	n := 0
	t0 := time.Now()
	for b.Loop() {
		o := mine.DefaultOutput(b.TempDir())
		o.Workers = 2
		res, err := mine.Positives(context.Background(), s, o, mine.PositiveParams{})
		if err != nil {
			b.Fatal(err)
		}
		n += res.Patches
	}
	b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "patches/s")
}

// BenchmarkNotebookWay does what the Kaggle notebook does on every run, with
// voxmine's own fast Go code: read each scan's .mhd, resample the whole
// scan to 1 mm, cut the same cubes, window them and write them. Compare
// its patches/s with BenchmarkNegatives in the same run.
func BenchmarkNotebookWay(b *testing.B) {
	s := benchStore(b)
	// The centres: the ones voxmine would mine.
	o := mine.DefaultOutput(b.TempDir())
	o.Workers = 2
	p := mine.DefaultNegatives()
	p.PerScan = benchPerScan
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		b.Fatal(err)
	}
	centres := map[string][][3]int{}
	for _, r := range readIndex(&testing.T{}, res.Index) {
		centres[r["seriesuid"]] = append(centres[r["seriesuid"]], centre(&testing.T{}, r))
	}
	win, _ := mine.NewWindow(-1000, 400, mine.F16)
	n := 0
	t0 := time.Now()
	for b.Loop() {
		out := b.TempDir()
		for _, info := range s.Scans() {
			h, hu, err := metaimage.ReadCT(info.Source.Path)
			if err != nil {
				b.Fatal(err)
			}
			g := h.Geometry()
			grid := ingest.Grid1mm(g)
			vol, err := ingest.ResampleLinear(context.Background(), hu, g, grid, 0, 1)
			if err != nil {
				b.Fatal(err)
			}
			cube := make([]int16, 64*64*64)
			for i, c := range centres[info.UID] {
				cutFromArray(vol, grid.Shape, c, 64, cube)
				data := win.Encode(nil, cube)
				f, _ := os.Create(filepath.Join(out, info.UID+"_bg"+strconv.Itoa(i)+".npy"))
				f.Write(mine.NPYHeader(mine.F16, 64, 64, 64))
				f.Write(data)
				f.Close()
				n++
			}
		}
	}
	b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "patches/s")
}

// BenchmarkPatchFloor is the floor of one patch: decoding its chunks (cold
// cache) and writing its file, nothing else.
func BenchmarkPatchFloor(b *testing.B) {
	s := benchStore(b)
	info := s.Scans()[0]
	v, err := s.OpenVolume(info.UID)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	sampler, err := query.NewLungSampler(v)
	if err != nil {
		b.Fatal(err)
	}
	r := mine.ScanRand(1, info.UID, "floor")
	win, _ := mine.NewWindow(-1000, 400, mine.F16)
	dir := b.TempDir()
	cube := make([]int16, 64*64*64)
	var buf []byte
	for b.Loop() {
		c, _ := sampler.Draw(r)
		b.StopTimer()
		s2, _ := store.Open(s.Dir()) // a cold chunk cache
		v2, _ := s2.OpenVolume(info.UID)
		b.StartTimer()
		query.ROI(v2, c, 64, -1000, cube)
		buf = win.Encode(buf[:0], cube)
		f, _ := os.Create(filepath.Join(dir, "p.npy"))
		f.Write(mine.NPYHeader(mine.F16, 64, 64, 64))
		f.Write(buf)
		f.Close()
		b.StopTimer()
		v2.Close()
		b.StartTimer()
	}
}

func cutFromArray(vol []int16, shape [3]int, c [3]int, size int, dst []int16) {
	b := query.CubeBox(c, size)
	for z := range size {
		for y := range size {
			for x := range size {
				p := [3]int{b.Z + z, b.Y + y, b.X + x}
				v := int16(0)
				if query.Inside(shape, p) {
					v = vol[(p[0]*shape[1]+p[1])*shape[2]+p[2]]
				}
				dst[(z*size+y)*size+x] = v
			}
		}
	}
}
