package mine

// Cutting: the cubes of one scan, cut while its chunks are hot, and the
// files they go to.

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"voxmine/internal/atomicfile"
	"voxmine/query"
	"voxmine/store"
)

// cutScan cuts and writes one scan's patches. It visits them in the
// Z-order of their centres' chunks, not in index order, so that cubes that
// share chunks follow each other and find them in the chunk cache (each
// patch is its own file, so the order changes no output byte).
func cutScan(ctx context.Context, v *store.Volume, samples []Sample, o Output, win *Window) error {
	sc := takeScratch(o)
	defer scratchPool.Put(sc)
	hu, scratch := sc.hu, sc.scratch
	buf := sc.buf[:0]
	defer func() { sc.buf = buf }()
	for _, i := range chunkOrder(samples) {
		s := samples[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := cutSample(v, s, o, hu, scratch); err != nil {
			return err
		}
		buf = win.Encode(buf[:0], hu)
		if err := writePatch(filepath.Join(o.Dir, s.File), o, buf); err != nil {
			return err
		}
	}
	return nil
}

// cubeScratch are the buffers cubes are cut through, kept between scans
// in scratchPool: a --per-scan 1 run cuts one cube a scan, and buffers
// made for each scan (768 KB for a 64³ cube and its labels) were 60 % of
// all it allocated, which the garbage collector then paid for.
type cubeScratch struct {
	hu, scratch   []int16
	ch, chScratch []uint8
	buf           []byte
}

var scratchPool sync.Pool

// takeScratch returns buffers for o's cubes (scratch only when o augments;
// ch is made by the caller that needs it).
func takeScratch(o Output) *cubeScratch {
	n := o.Size * o.Size * o.Size
	sc, _ := scratchPool.Get().(*cubeScratch)
	if sc == nil || len(sc.hu) != n {
		sc = &cubeScratch{hu: make([]int16, n)}
	}
	if o.Augment.On() && len(sc.scratch) != n {
		sc.scratch = make([]int16, n)
		if sc.ch != nil {
			sc.chScratch = make([]uint8, n)
		}
	}
	if !o.Augment.On() {
		sc.scratch, sc.chScratch = nil, nil
	}
	if cap(sc.buf) < n*o.DType.Size() {
		sc.buf = make([]byte, 0, n*o.DType.Size())
	}
	return sc
}

// cubeBox is the box a cube around c is read from, and the axes to flip
// once read: with o.Orient "lps" an axis whose direction is −1 is read one
// voxel further along (so that the centre stays at index size/2 once
// flipped) and flipped.
func cubeBox(v *store.Volume, c [3]int, o Output) (store.Box, [3]bool) {
	b := query.CubeBox(c, o.Size)
	if o.Orient != "lps" {
		return b, [3]bool{}
	}
	d := v.Info().Grid.Direction
	flip := [3]bool{d[8] < 0, d[4] < 0, d[0] < 0} // z, y, x
	start := [3]int{b.Z, b.Y, b.X}
	for a := range 3 {
		if flip[a] {
			start[a] = c[a] - (o.Size - 1 - o.Size/2)
		}
	}
	return store.Cube(start[0], start[1], start[2], o.Size), flip
}

// cutCube reads the cube around c into hu, its axes turned to LPS when
// o.Orient is "lps".
func cutCube(v *store.Volume, c [3]int, o Output, hu []int16) error {
	if o.Orient != "lps" {
		return query.ROI(v, c, o.Size, v.Info().PadHU, hu)
	}
	b, flip := cubeBox(v, c, o)
	if err := v.ReadHU(b, v.Info().PadHU, hu); err != nil {
		return err
	}
	flipCube(hu, o.Size, flip)
	return nil
}

// cutSample reads sample s's cube into hu, through its augmentation when
// the run has one (scratch: a buffer of hu's size, nil without).
func cutSample(v *store.Volume, s Sample, o Output, hu, scratch []int16) error {
	if o.Augment.On() {
		return cutAugmented(v, s, o, hu, scratch)
	}
	return cutCube(v, s.Center, o, hu)
}

// A boxReader fills dst with a uint8 channel of the 1 mm grid in box b
// (0 outside the scan): the lung labels, or a nodule mask.
type boxReader func(b store.Box, dst []uint8) error

// channel is a uint8 cube written beside each patch of a stream.
type channel struct {
	suffix string // member name after the key: "labels.npy"
	read   boxReader
}

// cutChannel reads a channel's cube the way cutCube reads the patch: the
// same box and flips (0 outside the scan).
func cutChannel(v *store.Volume, c [3]int, o Output, read boxReader, dst []uint8) error {
	b, flip := cubeBox(v, c, o)
	if err := read(b, dst); err != nil {
		return err
	}
	flipCube(dst, o.Size, flip)
	return nil
}

// flipCube reverses a size³ cube (z, y, x order) along the axes flagged.
func flipCube[T any](v []T, n int, flip [3]bool) {
	if flip[2] {
		for r := 0; r < n*n; r++ {
			slices.Reverse(v[r*n : (r+1)*n])
		}
	}
	if flip[1] {
		for z := range n {
			for y := range n / 2 {
				a, b := v[(z*n+y)*n:][:n], v[(z*n+n-1-y)*n:][:n]
				for x := range n {
					a[x], b[x] = b[x], a[x]
				}
			}
		}
	}
	if flip[0] {
		for z := range n / 2 {
			a, b := v[z*n*n:][:n*n], v[(n-1-z)*n*n:][:n*n]
			for i := range a {
				a[i], b[i] = b[i], a[i]
			}
		}
	}
}

// chunkOrder is the order to cut samples in: the Z-order of their
// centres' chunks, so that cubes that share chunks follow each other and
// find them in the chunk cache.
func chunkOrder(samples []Sample) []int {
	order := make([]int, len(samples))
	keys := make([]uint64, len(samples))
	for i, s := range samples {
		order[i] = i
		keys[i] = mortonKey(s.Center[0]/store.ChunkSize, s.Center[1]/store.ChunkSize, s.Center[2]/store.ChunkSize)
	}
	sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	return order
}

// cutEach cuts one scan's samples for a stream, in chunk order, and
// passes each to emit with its index: the bytes of its .npy file, and of
// each channel's .npy file in the channels' order. The buffers are emit's
// to keep.
//
// get returns an empty buffer of at least n bytes' capacity (a stream
// recycles the buffers it has written).
func cutEach(ctx context.Context, v *store.Volume, samples []Sample, o Output, win *Window, channels []channel,
	get func(n int) []byte, emit func(i int, cube []byte, extra [][]byte) error) error {
	sc := takeScratch(o)
	defer scratchPool.Put(sc)
	hu, scratch := sc.hu, sc.scratch
	if len(channels) > 0 && len(sc.ch) != len(hu) {
		sc.ch = make([]uint8, len(hu))
		if o.Augment.On() {
			sc.chScratch = make([]uint8, len(hu))
		}
	}
	ch, chScratch := sc.ch, sc.chScratch
	hdr := NPYHeader(o.DType, o.Size, o.Size, o.Size)
	chHdr := NPYHeader(U8, o.Size, o.Size, o.Size)
	for _, i := range chunkOrder(samples) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := cutSample(v, samples[i], o, hu, scratch); err != nil {
			return err
		}
		cube := win.Encode(append(get(len(hdr)+len(hu)*o.DType.Size()), hdr...), hu)
		var extra [][]byte
		for _, c := range channels {
			var err error
			if o.Augment.On() {
				err = cutAugmentedChannel(v, samples[i], o, c.read, ch, chScratch)
			} else {
				err = cutChannel(v, samples[i].Center, o, c.read, ch)
			}
			if err != nil {
				return err
			}
			extra = append(extra, append(append(get(len(chHdr)+len(ch)), chHdr...), ch...))
		}
		if err := emit(i, cube, extra); err != nil {
			return err
		}
	}
	return nil
}

// mortonKey interleaves the bits of three chunk coordinates (z, y, x):
// sorting by it keeps chunks that are near in space near in the order.
func mortonKey(z, y, x int) uint64 {
	var k uint64
	for b := range 21 {
		k |= uint64(x>>b&1)<<(3*b) | uint64(y>>b&1)<<(3*b+1) | uint64(z>>b&1)<<(3*b+2)
	}
	return k
}

// writePack writes patches.npy, shaped (N, size, size, size), by copying
// the data of each patch file in index order: the files are in the page
// cache, and a scan that failed leaves no hole.
func writePack(path string, o Output, samples []Sample) error {
	hdr := int64(len(NPYHeader(o.DType, o.Size, o.Size, o.Size)))
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(NPYHeader(o.DType, len(samples), o.Size, o.Size, o.Size)); err != nil {
			return err
		}
		for _, s := range samples {
			f, err := os.Open(filepath.Join(o.Dir, s.File))
			if err != nil {
				return err
			}
			_, err = io.Copy(w, io.NewSectionReader(f, hdr, 1<<62))
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// writePatch writes one .npy under a temporary name and renames it: a
// crash leaves no file that looks like a whole patch. (It is not fsynced
// one by one; the folder is synced at the end of the run.)
func writePatch(path string, o Output, data []byte) error {
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	if err := writeNPY(f, o.DType, data, o.Size, o.Size, o.Size); err != nil {
		f.Abort()
		return err
	}
	return f.CommitNoSync()
}
