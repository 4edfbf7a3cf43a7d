package store

import (
	"encoding/json"
	"fmt"
)

// ChunkSize is the edge of an inner chunk in voxels: every array in a store
// is cut into 32³ chunks.
const ChunkSize = 32

// FormatVersion is the version of the voxmine layout written into the root
// group's attributes. Readers refuse a store whose major version differs.
const FormatVersion = "1.0"

// zarrCodec is one entry of a Zarr v3 codec chain.
type zarrCodec struct {
	Name          string `json:"name"`
	Configuration any    `json:"configuration,omitempty"`
}

// arrayMeta is the zarr.json of a Zarr v3 array, restricted to what voxmine
// writes and reads.
type arrayMeta struct {
	ZarrFormat       int             `json:"zarr_format"`
	NodeType         string          `json:"node_type"`
	Shape            []int           `json:"shape"`
	DataType         string          `json:"data_type"`
	ChunkGrid        json.RawMessage `json:"chunk_grid"`
	ChunkKeyEncoding json.RawMessage `json:"chunk_key_encoding"`
	FillValue        json.Number     `json:"fill_value"`
	Codecs           json.RawMessage `json:"codecs"`
	DimensionNames   []string        `json:"dimension_names,omitempty"`
	Attributes       json.RawMessage `json:"attributes,omitempty"`
}

// groupMeta is the zarr.json of a Zarr v3 group.
type groupMeta struct {
	ZarrFormat int             `json:"zarr_format"`
	NodeType   string          `json:"node_type"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

func regularGrid(shape []int) json.RawMessage {
	return mustJSON(map[string]any{"name": "regular", "configuration": map[string]any{"chunk_shape": shape}})
}

var defaultKeyEncoding = mustJSON(map[string]any{"name": "default", "configuration": map[string]any{"separator": "/"}})

// shardedCodecs is the codec chain of a voxel array: one sharding_indexed
// codec whose inner chunks are 32³, Blosc-LZ4 with byte shuffle, then a
// CRC-32C, and whose index carries a CRC-32C of its own.
func shardedCodecs(typesize int, shuffle bool) json.RawMessage {
	shuf := "noshuffle"
	if shuffle && typesize > 1 {
		shuf = "shuffle"
	}
	return mustJSON([]zarrCodec{{
		Name: "sharding_indexed",
		Configuration: map[string]any{
			"chunk_shape": []int{ChunkSize, ChunkSize, ChunkSize},
			"codecs": []zarrCodec{
				{Name: "bytes", Configuration: map[string]any{"endian": "little"}},
				{Name: "blosc", Configuration: map[string]any{
					"cname": "lz4", "clevel": 5, "shuffle": shuf, "typesize": typesize, "blocksize": 0,
				}},
				{Name: "crc32c"},
			},
			"index_codecs": []zarrCodec{
				{Name: "bytes", Configuration: map[string]any{"endian": "little"}},
				{Name: "crc32c"},
			},
			"index_location": "end",
		},
	}})
}

// plainCodecs is the codec chain of the small per-chunk statistics array:
// little-endian bytes and a CRC-32C.
var plainCodecs = mustJSON([]zarrCodec{
	{Name: "bytes", Configuration: map[string]any{"endian": "little"}},
	{Name: "crc32c"},
})

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: static JSON does not marshal: %v", err)) // programming error only
	}
	return b
}

// roundUp returns n rounded up to a multiple of ChunkSize.
func roundUp(n int) int { return (n + ChunkSize - 1) / ChunkSize * ChunkSize }

// chunksAlong returns the number of chunks that cover n voxels.
func chunksAlong(n int) int { return (n + ChunkSize - 1) / ChunkSize }
