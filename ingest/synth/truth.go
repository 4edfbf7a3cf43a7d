package synth

import (
	"encoding/json"
	"fmt"
	"os"
)

// Truth is what the generator drew, written to truth.json: the answers
// tests check voxmine against.
type Truth struct {
	Seed  uint64      `json:"seed"`
	Small bool        `json:"small"`
	Scans []ScanTruth `json:"scans"`
}

// ScanTruth describes one generated scan. Geometry is in ITK order (x, y, z).
type ScanTruth struct {
	UID        string        `json:"seriesuid"`
	Index      int           `json:"index"`
	Subset     int           `json:"subset"`
	Path       string        `json:"path"`
	MaskPath   string        `json:"mask_path,omitempty"`
	Variant    string        `json:"variant,omitempty"`
	Size       [3]int        `json:"size_xyz"`
	Spacing    [3]float64    `json:"spacing_xyz"`
	Origin     [3]float64    `json:"origin_xyz"`
	Direction  [9]float64    `json:"direction"`
	Mirrored   bool          `json:"mirrored"`
	Pad        int16         `json:"pad_value"`
	Lungs      []LungTruth   `json:"lungs"`
	LungVoxels int64         `json:"lung_voxels_source"`
	Nodules    []NoduleTruth `json:"nodules"`
	Excluded   []NoduleTruth `json:"excluded"`
	Candidates []Candidate   `json:"candidates"`
}

// LungTruth is one lung's elliptic cylinder in world mm.
type LungTruth struct {
	Label          uint8   `json:"label"`
	CX, CY, RX, RY float64 `json:"-"`
	Z0, Z1         float64 `json:"-"`
}

// MarshalJSON keeps the lung parameters readable.
func (l LungTruth) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"label": l.Label, "center_xy": []float64{l.CX, l.CY},
		"semi_axes_xy": []float64{l.RX, l.RY}, "z_range": []float64{l.Z0, l.Z1}})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *LungTruth) UnmarshalJSON(b []byte) error {
	var m struct {
		Label uint8      `json:"label"`
		C     [2]float64 `json:"center_xy"`
		R     [2]float64 `json:"semi_axes_xy"`
		Z     [2]float64 `json:"z_range"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*l = LungTruth{m.Label, m.C[0], m.C[1], m.R[0], m.R[1], m.Z[0], m.Z[1]}
	return nil
}

// NoduleTruth is a drawn sphere (or, with Diameter −1, a listed point).
type NoduleTruth struct {
	World    vec     `json:"world_xyz"`
	Diameter float64 `json:"diameter_mm"`
	Pleural  bool    `json:"touches_pleura,omitempty"`
	Label    uint8   `json:"lung_label,omitempty"`
	// Voxel is the nearest voxel (z, y, x) of the scan as written; Voxel1mm
	// the nearest voxel of its 1 mm grid (same origin and direction).
	Voxel    [3]int `json:"voxel_zyx"`
	Voxel1mm [3]int `json:"voxel_zyx_1mm"`
}

// Candidate is a candidates.csv row.
type Candidate struct {
	World vec `json:"world_xyz"`
	Class int `json:"class"`
}

// VoxelZYX returns the nearest voxel of world point p on a grid with this
// scan's origin and direction and the given spacing (1 mm for the store).
func (s *ScanTruth) VoxelZYX(p [3]float64, spacing float64) [3]int {
	return s.voxelOf(p, [3]float64{spacing, spacing, spacing})
}

func (s *ScanTruth) voxelOf(p [3]float64, spacing [3]float64) [3]int {
	var idx [3]int
	for k := range 3 {
		c := s.Direction[4*k] * (p[k] - s.Origin[k]) / spacing[k]
		idx[2-k] = int(c + 0.5)
		if c < -0.5 {
			idx[2-k] = int(c - 0.5)
		}
	}
	return idx
}

// ReadTruth loads a truth.json.
func ReadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &Truth{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// fillVoxels sets the voxel coordinates of every nodule and finding.
func (s *ScanTruth) fillVoxels() {
	for _, list := range [][]NoduleTruth{s.Nodules, s.Excluded} {
		for i := range list {
			list[i].Voxel = s.voxelOf(list[i].World, s.Spacing)
			list[i].Voxel1mm = s.VoxelZYX(list[i].World, 1)
		}
	}
}
