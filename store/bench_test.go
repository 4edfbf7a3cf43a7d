package store

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
)

// benchVolume is a 350³ CT-like phantom (air, tissue, noisy lung), or
// the first scan of the store named by VOXMINE_BENCH_STORE.
func benchVolume(b *testing.B) *Volume {
	b.Helper()
	dir := os.Getenv("VOXMINE_BENCH_STORE")
	if dir == "" {
		dir = b.TempDir()
		w, err := NewWriter(dir, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		hu, lab := phantom([3]int{350, 350, 350}, 1)
		sc := &Scan{Info: ScanInfo{UID: "bench", PadHU: -1000, Grid: Geometry{Shape: [3]int{350, 350, 350}, Direction: Identity}}, HU: hu, Labels: lab}
		if _, err := w.Put(context.Background(), sc); err != nil {
			b.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	v, err := s.OpenVolume(scansOf(b, s)[0].UID)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	return v
}

// busiestChunk returns a stored chunk with the highest HU spread: lung
// noise, the hardest case for the decoder.
func busiestChunk(v *Volume) int {
	best, at := float32(-1), 0
	for ci := range v.stats.Len() {
		if v.hu.index[2*ci] != absent && v.stats.Std(ci) > best && v.stats.Voxels(ci) == chunkVoxels {
			best, at = v.stats.Std(ci), ci
		}
	}
	return at
}

// BenchmarkChunkDecode compares decoding one 32³ chunk (CRC check, blosc
// frame parsing, LZ4, unshuffle) with the floor: bare LZ4 of the same two
// streams plus the unshuffle.
func BenchmarkChunkDecode(b *testing.B) {
	v := benchVolume(b)
	ci := busiestChunk(v)
	raw, err := v.hu.raw(ci)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 2*chunkVoxels)
	b.Run("voxmine", func(b *testing.B) {
		b.SetBytes(2 * chunkVoxels)
		for b.Loop() {
			body, _ := v.hu.raw(ci)
			if err := decodeChunk(dst, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare-lz4+unshuffle", func(b *testing.B) {
		// The streams' offsets, found once outside the loop.
		pos := 20
		var streams [][]byte
		for range 2 {
			n := int(uint32(raw[pos]) | uint32(raw[pos+1])<<8 | uint32(raw[pos+2])<<16 | uint32(raw[pos+3])<<24)
			streams = append(streams, raw[pos+4:pos+4+n])
			pos += 4 + n
		}
		tmp := make([]byte, 2*chunkVoxels)
		b.SetBytes(2 * chunkVoxels)
		for b.Loop() {
			for j, s := range streams {
				out := tmp[j*chunkVoxels : (j+1)*chunkVoxels]
				if len(s) == chunkVoxels {
					copy(out, s)
				} else if _, err := lz4.UncompressBlock(s, out); err != nil {
					b.Fatal(err)
				}
			}
			unshuffleBytes(dst, tmp, 2)
		}
	})
}

// BenchmarkRandomBox64 reads random 64³ boxes with a cold chunk cache
// (a new cache each read) and a warm page cache, and reports the median.
func BenchmarkRandomBox64(b *testing.B) {
	v := benchVolume(b)
	shape := v.Shape()
	r := rand.New(rand.NewPCG(1, 1))
	buf := make([]int16, 64*64*64)
	var times []time.Duration
	for b.Loop() {
		v.cache.purge()
		box := Cube(r.IntN(shape[0]-64), r.IntN(shape[1]-64), r.IntN(shape[2]-64), 64)
		t0 := time.Now()
		if err := v.ReadHU(box, -1000, buf); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
}

// BenchmarkWrite compresses and writes a 350³ volume with 1 and 2 workers.
func BenchmarkWrite(b *testing.B) {
	hu, lab := phantom([3]int{350, 350, 350}, 2)
	for _, tc := range []struct {
		name string
		o    WriteOptions
	}{{"workers=1", WriteOptions{Workers: 1}}, {"workers=2", WriteOptions{Workers: 2}}, {"workers=2-hc", WriteOptions{Workers: 2, HC: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			w, _ := NewWriter(dir, tc.o)
			sc := &Scan{Info: ScanInfo{UID: "w", PadHU: -1000, Grid: Geometry{Shape: [3]int{350, 350, 350}, Direction: Identity}}, HU: hu, Labels: lab}
			b.SetBytes(int64(len(hu)*2 + len(lab)))
			for b.Loop() {
				if _, err := w.Put(context.Background(), sc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
