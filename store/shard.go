package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync"
	"unsafe"

	"github.com/edsrzf/mmap-go"

	"voxmine/internal/workpool"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// chunkVoxels is the number of voxels of one inner chunk.
const chunkVoxels = ChunkSize * ChunkSize * ChunkSize

// absent marks a missing chunk in a shard index.
const absent = math.MaxUint64

// littleEndianHost is true on the machines voxmine supports: decoded chunks
// are used in place as []int16.
var littleEndianHost = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Sizes of the shard file's parts, as docs/FORMAT.md ("The shard file")
// lays them out: the encoded chunks, then one index entry per inner chunk
// (offset and nbytes, two little-endian uint64), then the index's CRC-32C.
// Every encoded chunk ends in a CRC-32C of its own.
const (
	indexEntrySize = 16 // bytes of one (offset, nbytes) entry
	crcSize        = 4  // bytes of a little-endian CRC-32C
)

// shardIndexSize is the size of the index at the end of a shard of n inner
// chunks, its CRC included.
func shardIndexSize(n int) int { return indexEntrySize*n + crcSize }

// asBytes views a slice of fixed-size integers as its bytes.
func asBytes[T int16 | uint8](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// asValues views bytes as a slice of fixed-size integers.
func asValues[T int16 | uint8](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// codecOptions choose how inner chunks are compressed.
type codecOptions struct {
	Shuffle bool
	HC      bool
}

// encodeShard compresses every inner chunk of an array, each with its
// CRC, and returns them in chunk order (nil for absent chunks). extract fills buf with chunk
// ci (voxels outside the array set to the fill value) and reports whether
// every voxel equals the fill value, in which case the chunk is not stored.
// Chunks are compressed by up to workers goroutines.
func encodeShard[T int16 | uint8](ctx context.Context, chunks [3]int, workers int, opts codecOptions,
	extract func(ci int, buf []T) (empty bool)) ([][]byte, error) {
	n := chunks[0] * chunks[1] * chunks[2]
	encoded := make([][]byte, n)
	var zero T
	typesize := int(unsafe.Sizeof(zero))
	// Each worker keeps an encoder, a chunk buffer and encoding scratch.
	type scratch struct {
		enc *bloscEncoder
		buf []T
		out []byte
	}
	alloc := func() *scratch {
		buf := make([]T, chunkVoxels)
		return &scratch{enc: newBloscEncoder(opts.Shuffle, opts.HC), buf: buf, out: make([]byte, 0, 2*len(asBytes(buf))+64)}
	}
	err := workpool.Each(ctx, n, workers, alloc, func(s *scratch, ci int) error {
		if extract(ci, s.buf) {
			return nil
		}
		// Encode into reusable scratch and keep an exact-size copy:
		// growing each frame from nil would make twice its size in
		// garbage, and a scan has thousands of chunks.
		out := s.enc.Encode(s.out[:0], asBytes(s.buf), typesize)
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
		encoded[ci] = append([]byte(nil), out...)
		s.out = out
		return nil
	})
	if err != nil {
		return nil, err
	}
	return encoded, nil
}

// writeShard writes encoded chunks (nil for absent ones) as a shard file:
// the chunks in order, then the index and its CRC.
func writeShard(w io.Writer, encoded [][]byte) error {
	index := make([]byte, indexEntrySize*len(encoded))
	var off uint64
	bw := bufio.NewWriterSize(w, 1<<20)
	for i, e := range encoded {
		o, nb := uint64(absent), uint64(absent)
		if e != nil {
			o, nb = off, uint64(len(e))
			off += nb
			if _, err := bw.Write(e); err != nil {
				return err
			}
		}
		entry := index[indexEntrySize*i:]
		binary.LittleEndian.PutUint64(entry, o)
		binary.LittleEndian.PutUint64(entry[8:], nb)
	}
	bw.Write(index)
	bw.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(index, castagnoli)))
	return bw.Flush()
}

// shard is a read-only memory map of one shard file with a validated index.
type shard struct {
	path   string
	f      *os.File
	m      mmap.MMap
	index  []uint64 // offset, nbytes per chunk
	chunks [3]int
}

// openShard maps path and checks its index: the CRC, that every stored
// chunk lies inside the data part of the file, and that the chunks follow
// each other in index order without overlapping, as the writer lays them
// out. After this, slicing the map with an index entry can neither panic
// nor touch a page past the end. The chunks' CRCs cannot tie a chunk to
// its place (an index that points chunk 1 at chunk 0's bytes passes them);
// the order check can.
func openShard(path string, chunks [3]int) (*shard, error) {
	n := chunks[0] * chunks[1] * chunks[2]
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	idxLen := int64(shardIndexSize(n))
	if st.Size() < idxLen {
		f.Close()
		return nil, fmt.Errorf("shard of %d bytes is too small for its index of %d bytes", st.Size(), idxLen)
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	s := &shard{path: path, f: f, m: m, chunks: chunks, index: make([]uint64, 2*n)}
	raw := m[len(m)-int(idxLen):]
	entries := raw[:indexEntrySize*n]
	want := binary.LittleEndian.Uint32(raw[indexEntrySize*n:])
	if got := crc32.Checksum(entries, castagnoli); got != want {
		s.close()
		return nil, fmt.Errorf("shard index CRC is %08x, stored %08x: %w", got, want, ErrChecksum)
	}
	dataEnd := uint64(len(m)) - uint64(idxLen)
	next := uint64(0) // where the previous stored chunk ends
	for i := range n {
		entry := entries[indexEntrySize*i:]
		off := binary.LittleEndian.Uint64(entry)
		nb := binary.LittleEndian.Uint64(entry[8:])
		s.index[2*i], s.index[2*i+1] = off, nb
		if off == absent && nb == absent {
			continue
		}
		cz, cy, cx := i/(chunks[1]*chunks[2]), i/chunks[2]%chunks[1], i%chunks[2]
		if nb < bloscHeaderSize+crcSize || off > dataEnd || nb > dataEnd-off {
			s.close()
			return nil, fmt.Errorf("chunk (%d,%d,%d) at offset %d, %d bytes, lies outside the %d data bytes",
				cz, cy, cx, off, nb, dataEnd)
		}
		if off < next {
			s.close()
			return nil, fmt.Errorf("chunk (%d,%d,%d) at offset %d overlaps the chunk before it, which ends at %d: %w",
				cz, cy, cx, off, next, ErrChecksum)
		}
		next = off + nb
	}
	return s, nil
}

// raw returns the encoded bytes of chunk i with their CRC checked, or nil
// when the chunk is absent.
func (s *shard) raw(i int) ([]byte, error) {
	off, nb := s.index[2*i], s.index[2*i+1]
	if off == absent {
		return nil, nil
	}
	b := s.m[off : off+nb]
	body, sum := b[:len(b)-crcSize], b[len(b)-crcSize:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(sum) {
		return nil, fmt.Errorf("chunk CRC: %w", ErrChecksum)
	}
	return body, nil
}

func (s *shard) close() error {
	err := s.m.Unmap()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// scratchPool holds unshuffle buffers for decoding.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*chunkVoxels); return &b }}

// decodeChunk decodes an inner chunk's blosc frame into dst.
func decodeChunk(dst, frame []byte) error {
	p := scratchPool.Get().(*[]byte)
	var err error
	*p, err = bloscDecode(dst, frame, *p)
	scratchPool.Put(p)
	return err
}
