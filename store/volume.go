package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"path/filepath"
	"sync"
	"unsafe"

	"voxmine/internal/clip"
	"voxmine/store/grid"
)

// Box is an axis-aligned block of voxels (see grid.Box).
type Box = grid.Box

// Cube returns the size³ box that starts at (z, y, x).
func Cube(z, y, x, size int) Box { return grid.Cube(z, y, x, size) }

// Volume is one opened scan: its shards mapped read-only and its chunk
// index in memory. It is safe for concurrent use, Close included: Close
// waits for reads in flight, and reads after it return ErrClosed.
type Volume struct {
	info   ScanInfo
	id     uint64
	cache  *chunkCache
	hu     *shard
	labels *shard
	stats  *ChunkStats
	chunks [3]int
	owner  *Store

	// mu guards the mappings: reads hold it shared, Close exclusively, so
	// no read ever touches unmapped memory.
	mu     sync.RWMutex
	closed bool
}

// OpenVolume maps the shards of scan uid. The caller must Close it (or the
// Store). A damaged file gives a *CorruptionError; a missing one an error
// that wraps fs.ErrNotExist.
func (s *Store) OpenVolume(uid string) (*Volume, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	info, ok, err := s.cat.lookup(uid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("store %s: scan %s: %w", s.dir, clip.Q(uid), ErrNoScan)
	}
	dir := scanDir(s.dir, uid)
	g := info.Grid
	if err := checkShape(g.Shape); err != nil {
		return nil, &CorruptionError{Scan: uid, Path: filepath.Join(s.dir, catalogFile), Err: err}
	}
	v := &Volume{info: info, id: s.volIDs.Add(1), cache: s.cache, owner: s,
		chunks: [3]int{chunksAlong(g.Shape[0]), chunksAlong(g.Shape[1]), chunksAlong(g.Shape[2])}}
	fail := func(array, path string, err error) (*Volume, error) {
		v.unmap()
		var pe *fs.PathError
		if errors.As(err, &pe) || errors.Is(err, ErrClosed) {
			return nil, fmt.Errorf("scan %s: %w", uid, err)
		}
		return nil, &CorruptionError{Scan: uid, Array: array, Path: path, Err: err}
	}

	huShard := filepath.Join(dir, huArray, shardKey)
	if err := checkArray(filepath.Join(dir, huArray), "int16", g.Shape, info.VolumeUUID); err != nil {
		return fail(huArray, filepath.Join(dir, huArray, "zarr.json"), err)
	}
	if v.hu, err = openShard(huShard, v.chunks); err != nil {
		return fail(huArray, huShard, err)
	}
	if info.HasLabels {
		lungShard := filepath.Join(dir, labelArray, shardKey)
		if err := checkArray(filepath.Join(dir, labelArray), "uint8", g.Shape, info.VolumeUUID); err != nil {
			return fail(labelArray, filepath.Join(dir, labelArray, "zarr.json"), err)
		}
		if v.labels, err = openShard(lungShard, v.chunks); err != nil {
			return fail(labelArray, lungShard, err)
		}
	}
	if v.stats, err = readChunkStats(filepath.Join(dir, chunksArray), v.chunks, info.VolumeUUID); err != nil {
		return fail(chunksArray, filepath.Join(dir, chunksArray), err)
	}
	if err := s.track(v); err != nil {
		v.unmap()
		return nil, err
	}
	return v, nil
}

// Info returns the scan's catalog entry.
func (v *Volume) Info() ScanInfo { return v.info }

// Shape returns the volume's size in array order (z, y, x).
func (v *Volume) Shape() [3]int { return v.info.Grid.Shape }

// Stats returns the per-chunk index. It lives in memory and stays readable
// after Close.
func (v *Volume) Stats() *ChunkStats { return v.stats }

// HasLabels reports whether the volume has a label array.
func (v *Volume) HasLabels() bool { return v.info.HasLabels }

// Close unmaps the volume's files, after any read in flight. It is safe to
// call more than once.
func (v *Volume) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil
	}
	v.closed = true
	if v.owner != nil {
		v.owner.untrack(v)
	}
	return v.unmap()
}

// unmap releases the mappings and the volume's cached chunks.
func (v *Volume) unmap() error {
	v.cache.drop(v.id)
	var err error
	for _, s := range []*shard{v.hu, v.labels} {
		if s != nil {
			if cerr := s.close(); err == nil {
				err = cerr
			}
		}
	}
	return err
}

// acquire takes the volume for one read; release must follow.
func (v *Volume) acquire() error {
	v.mu.RLock()
	if v.closed {
		v.mu.RUnlock()
		return fmt.Errorf("scan %s: %w", v.info.UID, ErrClosed)
	}
	return nil
}

func (v *Volume) release() { v.mu.RUnlock() }

// ReadHU fills dst (b.Len() values, z, y, x order) with the HU of box b.
// Voxels outside the volume get pad. Only chunks the box overlaps are
// decoded, and not even those the chunk index shows to be uniform.
func (v *Volume) ReadHU(b Box, pad int16, dst []int16) error {
	if err := v.acquire(); err != nil {
		return err
	}
	defer v.release()
	return readBox(v, v.hu, huArrayID, b, pad, dst, v.info.PadHU, func(ci int) (int16, bool) {
		lo := v.stats.Min(ci)
		return lo, lo == v.stats.Max(ci)
	})
}

// ReadLabels fills dst with the label mask of box b; voxels outside the
// volume get pad. It fails if the volume has no labels.
func (v *Volume) ReadLabels(b Box, pad uint8, dst []uint8) error {
	if v.labels == nil {
		return fmt.Errorf("scan %s: no label array", v.info.UID)
	}
	if err := v.acquire(); err != nil {
		return err
	}
	defer v.release()
	return readBox(v, v.labels, labelArrayID, b, pad, dst, 0, v.stats.uniformLabel)
}

// CountLung returns how many voxels of box b carry a lung label (3 or 4).
// Chunks the box covers whole, and chunks the index shows to be uniform,
// are counted from the chunk index; only the others are decoded.
func (v *Volume) CountLung(b Box) (int, error) {
	if v.labels == nil {
		return 0, fmt.Errorf("scan %s: no label array", v.info.UID)
	}
	if err := v.acquire(); err != nil {
		return 0, err
	}
	defer v.release()
	n := 0
	err := v.eachChunk(b, func(sp span) error {
		lung := v.stats.LungCount(sp.ci)
		if lung == 0 {
			return nil
		}
		if sp.voxels() == v.stats.Voxels(sp.ci) {
			n += lung // the whole chunk lies in the box
			return nil
		}
		if l, ok := v.stats.uniformLabel(sp.ci); ok {
			if IsLung(l) {
				n += sp.voxels()
			}
			return nil
		}
		return v.withChunk(v.labels, labelArrayID, sp.ci, 1, func(buf []byte) {
			for z := sp.z0; z < sp.z1; z++ {
				for y := sp.y0; y < sp.y1; y++ {
					off := sp.offset(z, y, sp.x0)
					n += countLung(buf[off : off+sp.x1-sp.x0])
				}
			}
		})
	})
	return n, err
}

// countLung counts the lung labels (3 and 4) of a row, eight at a time:
// a byte of w^0x03… (or w^0x04…) is zero exactly where w holds a 3 (or a
// 4), and the classic zero-byte test marks each such byte with its top
// bit, which a popcount adds up.
func countLung(row []byte) int {
	const lows, highs = 0x0101010101010101, 0x7f7f7f7f7f7f7f7f
	zeroBytes := func(x uint64) int {
		t := (x&highs + highs) | x
		return bits.OnesCount64(^(t | highs))
	}
	n, i := 0, 0
	for ; i+8 <= len(row); i += 8 {
		w := binary.LittleEndian.Uint64(row[i : i+8])
		n += zeroBytes(w^(LabelLungA*lows)) + zeroBytes(w^(LabelLungB*lows))
	}
	for _, l := range row[i:] {
		if IsLung(l) {
			n++
		}
	}
	return n
}

// ReadChunk is the unit reads are made of, exposed for benchmarks: it
// decodes HU chunk (cz, cy, cx), bypassing the cache, into dst (32³ values).
func (v *Volume) ReadChunk(cz, cy, cx int, dst []int16) error {
	if err := v.acquire(); err != nil {
		return err
	}
	defer v.release()
	ci := v.stats.Index(cz, cy, cx)
	raw, err := v.hu.raw(ci)
	if err != nil {
		return v.chunkErr(huArrayID, ci, err)
	}
	if raw == nil {
		fillSlice(dst[:chunkVoxels], v.info.PadHU)
		return nil
	}
	if err := decodeChunk(asBytes(dst[:chunkVoxels]), raw); err != nil {
		return v.chunkErr(huArrayID, ci, err)
	}
	return nil
}

// Array identities in the chunk cache and in errors.
const (
	huArrayID uint8 = iota
	labelArrayID
)

var arrayNames = [...]string{huArrayID: huArray, labelArrayID: labelArray}

func (v *Volume) chunkErr(array uint8, ci int, err error) error {
	cz, cy, cx := v.stats.Coords(ci)
	sh := v.hu
	if array == labelArrayID {
		sh = v.labels
	}
	return &CorruptionError{Scan: v.info.UID, Array: arrayNames[array], Chunk: &[3]int{cz, cy, cx}, Path: sh.path, Err: err}
}

// span is the part of a box that falls in one chunk, in volume coordinates
// [z0, z1) × [y0, y1) × [x0, x1).
type span struct {
	ci                     int
	cz, cy, cx             int
	z0, z1, y0, y1, x0, x1 int
}

func (s span) voxels() int { return (s.z1 - s.z0) * (s.y1 - s.y0) * (s.x1 - s.x0) }

// offset is the position of volume voxel (z, y, x) inside the span's chunk.
func (s span) offset(z, y, x int) int {
	return ((z-s.cz*ChunkSize)*ChunkSize+(y-s.cy*ChunkSize))*ChunkSize + (x - s.cx*ChunkSize)
}

// eachChunk calls fn for every chunk that box b overlaps inside the
// volume, in storage order.
func (v *Volume) eachChunk(b Box, fn func(span) error) error {
	shape := v.info.Grid.Shape
	lo := [3]int{max(b.Z, 0), max(b.Y, 0), max(b.X, 0)}
	hi := [3]int{min(b.Z+b.D, shape[0]), min(b.Y+b.H, shape[1]), min(b.X+b.W, shape[2])}
	if lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2] {
		return nil
	}
	for cz := lo[0] / ChunkSize; cz <= (hi[0]-1)/ChunkSize; cz++ {
		for cy := lo[1] / ChunkSize; cy <= (hi[1]-1)/ChunkSize; cy++ {
			for cx := lo[2] / ChunkSize; cx <= (hi[2]-1)/ChunkSize; cx++ {
				sp := span{ci: v.stats.Index(cz, cy, cx), cz: cz, cy: cy, cx: cx,
					z0: max(lo[0], cz*ChunkSize), z1: min(hi[0], (cz+1)*ChunkSize),
					y0: max(lo[1], cy*ChunkSize), y1: min(hi[1], (cy+1)*ChunkSize),
					x0: max(lo[2], cx*ChunkSize), x1: min(hi[2], (cx+1)*ChunkSize)}
				if err := fn(sp); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// withChunk runs fn on the decoded bytes of chunk ci of an array, taken
// from the cache or decoded into it. elem is the size of one voxel. The
// chunk must be stored (not absent); an absent one calls fn on nil.
func (v *Volume) withChunk(sh *shard, array uint8, ci, elem int, fn func(buf []byte)) error {
	raw, err := sh.raw(ci)
	if err != nil {
		return v.chunkErr(array, ci, err)
	}
	if raw == nil {
		fn(nil)
		return nil
	}
	entry, err := v.cache.get(cacheKey{v.id, array, int32(ci)}, chunkVoxels*elem, func(buf []byte) error {
		return decodeChunk(buf, raw)
	})
	if err != nil {
		return v.chunkErr(array, ci, err)
	}
	fn(entry.buf)
	v.cache.release(entry)
	return nil
}

func readBox[T int16 | uint8](v *Volume, sh *shard, array uint8, b Box, pad T, dst []T, fill T,
	uniform func(ci int) (T, bool)) error {
	if b.D < 0 || b.H < 0 || b.W < 0 || len(dst) < b.Len() {
		return fmt.Errorf("scan %s: box %+v does not fit a buffer of %d", v.info.UID, b, len(dst))
	}
	shape := v.info.Grid.Shape
	if b.Z < 0 || b.Y < 0 || b.X < 0 || b.Z+b.D > shape[0] || b.Y+b.H > shape[1] || b.X+b.W > shape[2] {
		fillSlice(dst[:b.Len()], pad) // the part outside the volume
	}
	var zero T
	elem := int(unsafe.Sizeof(zero))
	// copyRows copies the span's rows from src (a whole chunk), or fills
	// them with a constant when src is nil.
	copyRows := func(sp span, src []T, constant T) {
		w := sp.x1 - sp.x0
		for z := sp.z0; z < sp.z1; z++ {
			for y := sp.y0; y < sp.y1; y++ {
				d := dst[((z-b.Z)*b.H+(y-b.Y))*b.W+(sp.x0-b.X):][:w]
				if src == nil {
					fillSlice(d, constant)
				} else {
					off := sp.offset(z, y, sp.x0)
					copy(d, src[off:off+w])
				}
			}
		}
	}
	return v.eachChunk(b, func(sp span) error {
		if c, ok := uniform(sp.ci); ok {
			copyRows(sp, nil, c)
			return nil
		}
		return v.withChunk(sh, array, sp.ci, elem, func(buf []byte) {
			if buf == nil {
				copyRows(sp, nil, fill) // an absent chunk reads as the fill value
				return
			}
			copyRows(sp, asValues[T](buf), fill)
		})
	})
}

func fillSlice[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}

// maxAxis is the most voxels a stored grid may have along an axis: 65 m
// at 1 mm, beyond any CT, and small enough that no product of a grid's
// sizes or chunk counts overflows. A shape read from disk is checked
// against it before it sizes anything: a catalog record and zarr.json
// altered alike could otherwise make a chunk count that wraps around.
const maxAxis = 1 << 16

// checkShape says what is wrong with a stored grid's shape, if anything.
func checkShape(shape [3]int) error {
	for _, n := range shape {
		if n < 1 || n > maxAxis {
			return fmt.Errorf("grid %v: an axis outside 1…%d voxels", shape, maxAxis)
		}
	}
	return nil
}
