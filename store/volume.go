package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"unsafe"
)

// Box is an axis-aligned block of voxels: its first voxel (Z, Y, X) and
// its size (D, H, W) in array order. A box may stick out of the volume.
type Box struct {
	Z, Y, X int
	D, H, W int
}

// Len returns the number of voxels of the box.
func (b Box) Len() int { return b.D * b.H * b.W }

// Cube returns the size³ box that starts at (z, y, x).
func Cube(z, y, x, size int) Box { return Box{z, y, x, size, size, size} }

// Volume is one opened scan: its shards mapped read-only and its chunk
// index in memory. It is safe for concurrent use.
type Volume struct {
	info   ScanInfo
	id     uint64
	cache  *chunkCache
	hu     *shard
	labels *shard
	stats  *ChunkStats
	chunks [3]int
	once   sync.Once
}

// OpenVolume maps the shards of scan uid. The caller must Close it.
func (s *Store) OpenVolume(uid string) (*Volume, error) {
	info, ok := s.cat.Lookup(uid)
	if !ok {
		return nil, fmt.Errorf("store %s: no scan %q in the catalog", s.dir, uid)
	}
	dir := scanDir(s.dir, uid)
	g := info.Grid
	v := &Volume{info: info, id: s.volIDs.Add(1), cache: s.cache,
		chunks: [3]int{chunksAlong(g.Shape[0]), chunksAlong(g.Shape[1]), chunksAlong(g.Shape[2])}}
	fail := func(err error) (*Volume, error) {
		v.Close()
		return nil, fmt.Errorf("scan %s: %w", uid, err)
	}
	if err := checkArray(filepath.Join(dir, huArray), "int16", g.Shape, info.VolumeUUID); err != nil {
		return fail(err)
	}
	var err error
	if v.hu, err = openShard(filepath.Join(dir, huArray, shardKey), v.chunks); err != nil {
		return fail(err)
	}
	if info.HasLabels {
		if err := checkArray(filepath.Join(dir, labelArray), "uint8", g.Shape, info.VolumeUUID); err != nil {
			return fail(err)
		}
		if v.labels, err = openShard(filepath.Join(dir, labelArray, shardKey), v.chunks); err != nil {
			return fail(err)
		}
	}
	if v.stats, err = readChunkStats(filepath.Join(dir, chunksArray), v.chunks, info.VolumeUUID); err != nil {
		return fail(err)
	}
	return v, nil
}

// Info returns the scan's catalog entry.
func (v *Volume) Info() ScanInfo { return v.info }

// Shape returns the volume's size in array order (z, y, x).
func (v *Volume) Shape() [3]int { return v.info.Grid.Shape }

// Stats returns the per-chunk index.
func (v *Volume) Stats() *ChunkStats { return v.stats }

// HasLabels reports whether the volume has a label array.
func (v *Volume) HasLabels() bool { return v.labels != nil }

// Close unmaps the volume's files. It is safe to call more than once.
func (v *Volume) Close() error {
	var err error
	v.once.Do(func() {
		v.cache.drop(v.id)
		for _, s := range []*shard{v.hu, v.labels} {
			if s != nil {
				if cerr := s.close(); err == nil {
					err = cerr
				}
			}
		}
	})
	return err
}

// ReadHU fills dst (b.Len() values, z, y, x order) with the HU of box b.
// Voxels outside the volume get pad. Only chunks the box overlaps are
// decoded, and not even those the chunk index shows to be uniform.
func (v *Volume) ReadHU(b Box, pad int16, dst []int16) error {
	return readBox(v, v.hu, 0, b, pad, dst, v.info.PadHU, func(ci int) (int16, bool) {
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
	return readBox(v, v.labels, 1, b, pad, dst, 0, v.stats.uniformLabel)
}

// ReadChunk is the unit reads are made of, exposed for benchmarks: it
// decodes HU chunk (cz, cy, cx), bypassing the cache, into dst (32³ values).
func (v *Volume) ReadChunk(cz, cy, cx int, dst []int16) error {
	ci := v.stats.Index(cz, cy, cx)
	raw, err := v.hu.raw(ci)
	if err != nil {
		return v.chunkErr("hu", ci, err)
	}
	if raw == nil {
		for i := range dst[:chunkVoxels] {
			dst[i] = v.info.PadHU
		}
		return nil
	}
	if err := decodeChunk(asBytes(dst[:chunkVoxels]), raw); err != nil {
		return v.chunkErr("hu", ci, err)
	}
	return nil
}

func (v *Volume) chunkErr(array string, ci int, err error) error {
	cz, cy, cx := v.stats.Coords(ci)
	return fmt.Errorf("scan %s: %s chunk (%d,%d,%d): %w", v.info.UID, array, cz, cy, cx, err)
}

func readBox[T int16 | uint8](v *Volume, sh *shard, arrayID uint8, b Box, pad T, dst []T, fill T,
	uniform func(ci int) (T, bool)) error {
	if b.D < 0 || b.H < 0 || b.W < 0 || len(dst) < b.Len() {
		return fmt.Errorf("scan %s: box %+v does not fit a buffer of %d", v.info.UID, b, len(dst))
	}
	shape := v.info.Grid.Shape
	// The part of the box inside the volume, in volume coordinates.
	lo := [3]int{max(b.Z, 0), max(b.Y, 0), max(b.X, 0)}
	hi := [3]int{min(b.Z+b.D, shape[0]), min(b.Y+b.H, shape[1]), min(b.X+b.W, shape[2])}
	if lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2] {
		fillSlice(dst[:b.Len()], pad)
		return nil
	}
	if lo != [3]int{b.Z, b.Y, b.X} || hi != [3]int{b.Z + b.D, b.Y + b.H, b.X + b.W} {
		fillSlice(dst[:b.Len()], pad)
	}
	array := "hu"
	if arrayID == 1 {
		array = "lung"
	}
	for cz := lo[0] / ChunkSize; cz <= (hi[0]-1)/ChunkSize; cz++ {
		for cy := lo[1] / ChunkSize; cy <= (hi[1]-1)/ChunkSize; cy++ {
			for cx := lo[2] / ChunkSize; cx <= (hi[2]-1)/ChunkSize; cx++ {
				ci := v.stats.Index(cz, cy, cx)
				// The overlap of this chunk with the box, in volume coordinates.
				z0, z1 := max(lo[0], cz*ChunkSize), min(hi[0], (cz+1)*ChunkSize)
				y0, y1 := max(lo[1], cy*ChunkSize), min(hi[1], (cy+1)*ChunkSize)
				x0, x1 := max(lo[2], cx*ChunkSize), min(hi[2], (cx+1)*ChunkSize)
				w := x1 - x0
				var src []T
				constant, isConst := uniform(ci)
				var entry *cacheEntry
				if !isConst {
					raw, err := sh.raw(ci)
					if err != nil {
						return v.chunkErr(array, ci, err)
					}
					if raw == nil {
						constant, isConst = fill, true
					} else {
						var zero T
						size := chunkVoxels * int(unsafe.Sizeof(zero))
						entry, err = v.cache.get(cacheKey{v.id, arrayID, int32(ci)}, size, func(buf []byte) error {
							return decodeChunk(buf, raw)
						})
						if err != nil {
							return v.chunkErr(array, ci, err)
						}
						src = asValues[T](entry.buf)
					}
				}
				for z := z0; z < z1; z++ {
					for y := y0; y < y1; y++ {
						d := dst[((z-b.Z)*b.H+(y-b.Y))*b.W+(x0-b.X):][:w]
						if isConst {
							fillSlice(d, constant)
						} else {
							off := ((z-cz*ChunkSize)*ChunkSize+(y-cy*ChunkSize))*ChunkSize + (x0 - cx*ChunkSize)
							copy(d, src[off:off+w])
						}
					}
				}
				if entry != nil {
					v.cache.release(entry)
				}
			}
		}
	}
	return nil
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

// checkArray reads an array's zarr.json and checks that it is the array
// this scan's catalog entry describes.
func checkArray(dir, dtype string, shape [3]int, volUUID string) error {
	path := filepath.Join(dir, "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m arrayMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if m.ZarrFormat != 3 || m.NodeType != "array" || m.DataType != dtype || len(m.Shape) != 3 ||
		m.Shape[0] != shape[0] || m.Shape[1] != shape[1] || m.Shape[2] != shape[2] {
		return fmt.Errorf("%s: %s %v array expected, found %s %v", path, dtype, shape, m.DataType, m.Shape)
	}
	var attrs struct {
		Voxmine struct {
			VolumeUUID string `json:"volume_uuid"`
		} `json:"voxmine"`
	}
	if len(m.Attributes) > 0 {
		if err := json.Unmarshal(m.Attributes, &attrs); err != nil {
			return fmt.Errorf("%s: attributes: %w", path, err)
		}
	}
	if attrs.Voxmine.VolumeUUID != volUUID {
		return fmt.Errorf("%s: volume %q, but the catalog lists %q (stale catalog: run ingest again)", path, attrs.Voxmine.VolumeUUID, volUUID)
	}
	return nil
}

func readChunkStats(dir string, chunks [3]int, volUUID string) (*ChunkStats, error) {
	path := filepath.Join(dir, "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m struct {
		arrayMeta
		Attributes struct {
			Voxmine struct {
				VolumeUUID string   `json:"volume_uuid"`
				Fields     []string `json:"fields"`
				Labels     []uint8  `json:"labels"`
			} `json:"voxmine"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a := m.Attributes.Voxmine
	if a.VolumeUUID != volUUID {
		return nil, fmt.Errorf("%s: volume %q, but the catalog lists %q", path, a.VolumeUUID, volUUID)
	}
	if len(m.Shape) != 4 || m.Shape[0] != chunks[0] || m.Shape[1] != chunks[1] || m.Shape[2] != chunks[2] || m.Shape[3] != len(a.Fields) {
		return nil, fmt.Errorf("%s: shape %v does not match %v chunks of %d fields", path, m.Shape, chunks, len(a.Fields))
	}
	s := &ChunkStats{Chunks: chunks, Labels: a.Labels, Fields: a.Fields}
	dpath := filepath.Join(dir, "c", "0", "0", "0", "0")
	raw, err := os.ReadFile(dpath)
	if err != nil {
		return nil, err
	}
	want := 4*s.Len()*len(a.Fields) + 4
	if len(raw) != want {
		return nil, fmt.Errorf("%s: %d bytes, want %d", dpath, len(raw), want)
	}
	body := raw[:len(raw)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(raw[len(raw)-4:]) {
		return nil, fmt.Errorf("%s: CRC mismatch", dpath)
	}
	s.data = make([]float32, len(body)/4)
	for i := range s.data {
		s.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func encodeFloat32s(v []float32) []byte {
	b := make([]byte, 0, 4*len(v)+4)
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func jsonInt(v int) json.Number { return json.Number(strconv.Itoa(v)) }

// readScanGroup reads the ScanInfo kept in a scan group's attributes.
func readScanGroup(dir, uid string) (ScanInfo, error) {
	path := filepath.Join(scanDir(dir, uid), "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return ScanInfo{}, err
	}
	var g struct {
		Attributes struct {
			Voxmine ScanInfo `json:"voxmine"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return ScanInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	return g.Attributes.Voxmine, nil
}

// syncWrite creates a new file with what fill writes and flushes it to disk.
func syncWrite(path string, fill func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncWriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return syncWrite(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}
