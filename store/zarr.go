package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// ChunkSize is the edge of an inner chunk in voxels: every array in a store
// is cut into 32³ chunks.
const ChunkSize = 32

// FormatVersion is the version of the voxmine layout written into the root
// group's attributes. Readers refuse a store whose major version they do
// not know. Version 2 keeps the catalog and findings as sorted JSON Lines
// tables (catalog.jsonl, findings.jsonl, candidates.jsonl) where version 1
// kept one JSON document each; the voxels are the same. voxmine reads
// both, and a writer migrates a version-1 store when it opens it.
const FormatVersion = "2.0"

// readsMajor reports whether this voxmine reads stores of format major m.
func readsMajor(m string) bool { return m == "1" || m == "2" }

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

func jsonInt(v int) json.Number { return json.Number(strconv.Itoa(v)) }
