package mine_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"voxmine/ingest/metaimage"
	"voxmine/ingest/resample"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
	"voxmine/store/storetest"
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
			b.ReportMetric(float64(time.Since(t0).Nanoseconds())/float64(n), "ns/patch")
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
		for _, info := range storetest.Scans(b, s) {
			h, hu, err := metaimage.ReadCT(info.Source.Path)
			if err != nil {
				b.Fatal(err)
			}
			g := h.Geometry()
			grid := resample.Grid1mm(g)
			vol, err := resample.Linear(context.Background(), hu, g, grid, 0, 1)
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

// BenchmarkPatchFloor is the floor of a patch, on the centres
// BenchmarkNegatives mines: decoding the chunks its cube touches (those
// the chunk index does not show to be uniform), windowing 64³ voxels to
// float16 and writing a new .npy file — nothing else: no sampling, no lung
// or distance test, no copy into the cube, no index. Compare its ns/patch
// with BenchmarkNegatives/workers=1 in the same run.
func BenchmarkPatchFloor(b *testing.B) {
	s := benchStore(b)
	o := mine.DefaultOutput(b.TempDir())
	p := mine.DefaultNegatives()
	p.PerScan = benchPerScan
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		b.Fatal(err)
	}
	type centre struct {
		uid string
		c   [3]int
	}
	var centres []centre
	for _, r := range readIndex(&testing.T{}, res.Index) {
		centres = append(centres, centre{r["seriesuid"], mineCentre(r)})
	}
	win, _ := mine.NewWindow(-1000, 400, mine.F16)
	chunk := make([]int16, store.ChunkSize*store.ChunkSize*store.ChunkSize)
	cube := make([]int16, 64*64*64)
	var buf []byte
	header := mine.NPYHeader(mine.F16, 64, 64, 64)
	vols := map[string]*store.Volume{}
	for _, c := range centres {
		if vols[c.uid] == nil {
			if vols[c.uid], err = s.OpenVolume(c.uid); err != nil {
				b.Fatal(err)
			}
		}
	}
	n := 0
	for b.Loop() {
		dir := b.TempDir()
		for i, c := range centres {
			v := vols[c.uid]
			st := v.Stats()
			box := query.CubeBox(c.c, 64)
			const cs = store.ChunkSize
			for cz := max(box.Z, 0) / cs; cz <= min(box.Z+63, v.Shape()[0]-1)/cs; cz++ {
				for cy := max(box.Y, 0) / cs; cy <= min(box.Y+63, v.Shape()[1]-1)/cs; cy++ {
					for cx := max(box.X, 0) / cs; cx <= min(box.X+63, v.Shape()[2]-1)/cs; cx++ {
						if ci := st.Index(cz, cy, cx); st.Min(ci) != st.Max(ci) {
							if err := v.ReadChunk(cz, cy, cx, chunk); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
			}
			buf = win.Encode(append(buf[:0], header...), cube)
			if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)+".npy"), buf, 0o644); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/patch")
}

func mineCentre(r map[string]string) [3]int {
	var c [3]int
	for i, k := range []string{"center_z", "center_y", "center_x"} {
		c[i], _ = strconv.Atoi(r[k])
	}
	return c
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
