package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// spotsArray is the array of a scan's nodule-like spots.
const spotsArray = "blobs"

// Spot is a nodule-like spot in a scan's lung: a local maximum of the
// blob response ingest computes (docs/DESIGN.md, hard negatives), the
// places a detector confuses with nodules: vessels seen end-on, branch
// points, pleural bumps.
type Spot struct {
	// Z, Y, X is the voxel on the 1 mm grid.
	Z, Y, X int
	// Response is the blob response in HU: how much brighter a small cube
	// around the spot is than the shell around it.
	Response float32
}

// spotFields are the float32 fields of one Spot in the "blobs" array.
const spotFields = 4

// encodeSpots is the "blobs" array's one chunk: z, y, x, response per row,
// little-endian float32, then a CRC-32C.
func encodeSpots(bs []Spot) []byte {
	v := make([]float32, 0, spotFields*len(bs))
	for _, b := range bs {
		v = append(v, float32(b.Z), float32(b.Y), float32(b.X), b.Response)
	}
	return encodeFloat32s(v)
}

// Spots returns the scan's nodule-like spots, strongest first; nil when
// ingest computed none (a scan without lung labels, or a store written
// before voxmine computed them). The list is read from disk on each call.
func (v *Volume) Spots() ([]Spot, error) {
	if err := v.acquire(); err != nil {
		return nil, err
	}
	defer v.release()
	dir := filepath.Join(scanDir(v.owner.dir, v.info.UID), spotsArray)
	raw, err := os.ReadFile(filepath.Join(dir, "c", "0", "0"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", v.info.UID, err)
	}
	if len(raw) < crcSize || (len(raw)-crcSize)%(spotFields*statValueSize) != 0 {
		return nil, &CorruptionError{Scan: v.info.UID, Array: spotsArray, Path: dir, Err: fmt.Errorf("%d bytes are not rows of %d float32", len(raw), spotFields)}
	}
	body, sum := raw[:len(raw)-crcSize], raw[len(raw)-crcSize:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(sum) {
		return nil, &CorruptionError{Scan: v.info.UID, Array: spotsArray, Path: dir, Err: ErrChecksum}
	}
	n := len(body) / (spotFields * statValueSize)
	out := make([]Spot, n)
	f := func(i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(body[statValueSize*i:])) }
	for i := range out {
		out[i] = Spot{Z: int(f(4 * i)), Y: int(f(4*i + 1)), X: int(f(4*i + 2)), Response: f(4*i + 3)}
	}
	return out, nil
}
