package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// ChunkStats is the per-chunk index of a volume: for every 32³ chunk its
// minimum, maximum, mean and standard deviation of HU over the voxels inside
// the volume, and the voxel count of each label of the label array. It is
// stored as the float32 Zarr array "chunks" of shape (cz, cy, cx, fields),
// small enough to read whole, so a miner can find lung and skip uniform
// chunks without decoding a voxel.
type ChunkStats struct {
	// Chunks is the number of chunks along z, y and x.
	Chunks [3]int
	// Labels lists the label values that have a count field, ascending.
	Labels []uint8
	// Fields names the fields of one chunk's record, in order.
	Fields []string
	data   []float32
}

// Field positions common to every record.
const (
	statMin = iota
	statMax
	statMean
	statStd
	statVoxels
	statFixedFields
)

var fixedFieldNames = []string{"min", "max", "mean", "std", "voxels"}

func newChunkStats(chunks [3]int, labels []uint8) *ChunkStats {
	fields := append([]string(nil), fixedFieldNames...)
	for _, l := range labels {
		fields = append(fields, "label_"+strconv.Itoa(int(l)))
	}
	n := chunks[0] * chunks[1] * chunks[2]
	return &ChunkStats{Chunks: chunks, Labels: labels, Fields: fields, data: make([]float32, n*len(fields))}
}

// Len returns the number of chunks.
func (s *ChunkStats) Len() int { return s.Chunks[0] * s.Chunks[1] * s.Chunks[2] }

// Index returns the linear index of chunk (cz, cy, cx).
func (s *ChunkStats) Index(cz, cy, cx int) int { return (cz*s.Chunks[1]+cy)*s.Chunks[2] + cx }

// Coords returns the chunk coordinates of linear index i.
func (s *ChunkStats) Coords(i int) (cz, cy, cx int) {
	cx = i % s.Chunks[2]
	i /= s.Chunks[2]
	return i / s.Chunks[1], i % s.Chunks[1], cx
}

func (s *ChunkStats) rec(i int) []float32 {
	f := len(s.Fields)
	return s.data[i*f : (i+1)*f]
}

// Min returns the smallest HU of chunk i.
func (s *ChunkStats) Min(i int) int16 { return int16(s.rec(i)[statMin]) }

// Max returns the largest HU of chunk i.
func (s *ChunkStats) Max(i int) int16 { return int16(s.rec(i)[statMax]) }

// Mean returns the mean HU of chunk i.
func (s *ChunkStats) Mean(i int) float32 { return s.rec(i)[statMean] }

// Std returns the standard deviation of HU in chunk i.
func (s *ChunkStats) Std(i int) float32 { return s.rec(i)[statStd] }

// Voxels returns the number of voxels of chunk i inside the volume (less
// than 32³ for chunks at the far edges).
func (s *ChunkStats) Voxels(i int) int { return int(s.rec(i)[statVoxels]) }

// LabelCount returns how many voxels of chunk i carry label l (0 when l has
// no field).
func (s *ChunkStats) LabelCount(i int, l uint8) int {
	for k, v := range s.Labels {
		if v == l {
			return int(s.rec(i)[statFixedFields+k])
		}
	}
	return 0
}

// LungCount returns the number of lung voxels (labels 3 and 4) of chunk i.
func (s *ChunkStats) LungCount(i int) int {
	return s.LabelCount(i, LabelLungA) + s.LabelCount(i, LabelLungB)
}

// uniformLabel reports the single label of chunk i when all of its voxels
// carry it.
func (s *ChunkStats) uniformLabel(i int) (uint8, bool) {
	n := s.Voxels(i)
	for k, v := range s.Labels {
		if int(s.rec(i)[statFixedFields+k]) == n {
			return v, true
		}
	}
	return 0, false
}

// huStats accumulates the statistics of one chunk's HU voxels.
func (s *ChunkStats) setHU(i int, vals []int16) {
	r := s.rec(i)
	if len(vals) == 0 {
		return
	}
	lo, hi := vals[0], vals[0]
	var sum, sq float64
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
		f := float64(v)
		sum += f
		sq += f * f
	}
	n := float64(len(vals))
	mean := sum / n
	r[statMin], r[statMax] = float32(lo), float32(hi)
	r[statMean] = float32(mean)
	r[statStd] = float32(math.Sqrt(math.Max(0, sq/n-mean*mean)))
	r[statVoxels] = float32(len(vals))
}

func (s *ChunkStats) setLabels(i int, counts *[256]int32) {
	r := s.rec(i)
	for k, l := range s.Labels {
		r[statFixedFields+k] = float32(counts[l])
	}
}

func (s *ChunkStats) validate() error {
	if len(s.Fields) < statFixedFields || len(s.Fields) != statFixedFields+len(s.Labels) {
		return fmt.Errorf("chunk index has %d fields for %d labels", len(s.Fields), len(s.Labels))
	}
	for k, name := range fixedFieldNames {
		if s.Fields[k] != name {
			return fmt.Errorf("chunk index field %d is %q, want %q", k, s.Fields[k], name)
		}
	}
	if len(s.data) != s.Len()*len(s.Fields) {
		return fmt.Errorf("chunk index holds %d values, want %d", len(s.data), s.Len()*len(s.Fields))
	}
	return nil
}

// statValueSize is the size of one field of the chunk index: a
// little-endian float32 (docs/FORMAT.md, "The per-chunk index").
const statValueSize = 4

// readChunkStats reads a scan's chunk index array and checks its CRC and
// that it belongs to the volume the catalog lists.
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
	want := statValueSize*s.Len()*len(a.Fields) + crcSize
	if len(raw) != want {
		return nil, fmt.Errorf("%s: %d bytes, want %d", dpath, len(raw), want)
	}
	body, sum := raw[:len(raw)-crcSize], raw[len(raw)-crcSize:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(sum) {
		return nil, fmt.Errorf("%s: %w", dpath, ErrChecksum)
	}
	s.data = make([]float32, len(body)/statValueSize)
	for i := range s.data {
		s.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[statValueSize*i:]))
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// encodeFloat32s encodes the chunk index's values, then their CRC-32C.
func encodeFloat32s(v []float32) []byte {
	b := make([]byte, 0, statValueSize*len(v)+crcSize)
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
