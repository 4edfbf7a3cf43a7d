package store

import (
	"bytes"
	"compress/zlib"
	"os"
	"testing"
	"time"
)

// TestCompressionReport measures, on the HU chunks of a volume, the stored
// size with and without the byte shuffle, with LZ4-HC, and with zlib (the
// .zraw way), against raw int16. It asserts only that shuffle helps and
// HC is no larger; the numbers are logged for docs/BENCHMARKS.md
// (go test -run CompressionReport -v ./store, with VOXMINE_BENCH_STORE set
// to a store of full-size scans for the real figures).
func TestCompressionReport(t *testing.T) {
	var chunks [][]byte
	dir := os.Getenv("VOXMINE_BENCH_STORE")
	if dir == "" {
		hu, _ := phantom([3]int{128, 128, 128}, 9)
		st := newChunkStats([3]int{4, 4, 4}, nil)
		buf := make([]int16, chunkVoxels)
		for ci := range st.Len() {
			extractChunk(hu, [3]int{128, 128, 128}, st, ci, buf, -1000)
			chunks = append(chunks, append([]byte(nil), asBytes(buf)...))
		}
	} else {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scansOf(t, s) {
			v, err := s.OpenVolume(sc.UID)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]int16, chunkVoxels)
			for ci := range v.stats.Len() {
				if v.hu.index[2*ci] == absent {
					continue
				}
				cz, cy, cx := v.stats.Coords(ci)
				v.ReadChunk(cz, cy, cx, buf)
				chunks = append(chunks, append([]byte(nil), asBytes(buf)...))
			}
			v.Close()
		}
	}
	raw := len(chunks) * 2 * chunkVoxels
	size := func(shuffle, hc bool) (int, time.Duration) {
		e := newBloscEncoder(shuffle, hc)
		n := 0
		t0 := time.Now()
		for _, c := range chunks {
			n += len(e.Encode(nil, c, 2)) + 4
		}
		return n, time.Since(t0)
	}
	lz, tlz := size(true, false)
	noShuf, tns := size(false, false)
	hc, thc := size(true, true)
	var zb bytes.Buffer
	t0 := time.Now()
	zw, _ := zlib.NewWriterLevel(&zb, zlib.DefaultCompression)
	for _, c := range chunks {
		zw.Write(c)
	}
	zw.Close()
	tz := time.Since(t0)
	t.Logf("%d stored chunks, %.1f MB raw int16", len(chunks), float64(raw)/1e6)
	for _, r := range []struct {
		name string
		n    int
		d    time.Duration
	}{{"lz4 + shuffle", lz, tlz}, {"lz4, no shuffle", noShuf, tns}, {"lz4-hc + shuffle", hc, thc}, {"zlib (.zraw)", zb.Len(), tz}} {
		t.Logf("%-16s %8.1f MB  ratio %.2f  compress %6.0f MB/s", r.name, float64(r.n)/1e6, float64(raw)/float64(r.n), float64(raw)/1e6/r.d.Seconds())
	}
	if lz >= noShuf {
		t.Errorf("shuffle does not help: %d ≥ %d bytes", lz, noShuf)
	}
	if hc > lz {
		t.Errorf("LZ4-HC larger than LZ4: %d > %d", hc, lz)
	}
}
