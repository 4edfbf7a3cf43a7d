package store

import "maps"

// Summary is what a store holds, as a whole: what `mine info` says first.
// The catalog keeps it in its header, updated as scans are stored, so it
// costs the same to read in a store of 200,000 scans as in one of ten.
type Summary struct {
	Scans      int `json:"scans"`
	WithLabels int `json:"with_labels"`
	Computed   int `json:"computed_labels"` // labels from voxmine's own segmentation
	// Flagged lists the flags of each flagged scan (implausible lungs).
	Flagged map[string][]string `json:"flagged,omitempty"`
	// StoredBytes are the shard files' sizes; RawBytes the voxels' size
	// uncompressed (int16 HU, uint8 labels).
	StoredBytes int64 `json:"stored_bytes"`
	RawBytes    int64 `json:"raw_bytes"`
	// Patients counts the scans of each patient id the scans' headers
	// give; NoPatient the scans whose header gives none.
	Patients  map[string]int `json:"patients,omitempty"`
	NoPatient int            `json:"no_patient"`
}

// add counts info in the summary (sign 1) or takes it out (sign −1).
func (s *Summary) add(info ScanInfo, sign int) {
	s.Scans += sign
	if info.HasLabels {
		s.WithLabels += sign
	}
	if info.LabelSource == LabelsComputed {
		s.Computed += sign
	}
	if len(info.Flags) > 0 {
		if s.Flagged == nil {
			s.Flagged = map[string][]string{}
		}
		if sign > 0 {
			s.Flagged[info.UID] = info.Flags
		} else {
			delete(s.Flagged, info.UID)
		}
	}
	n := int64(info.Grid.Voxels())
	raw := 2 * n
	if info.HasLabels {
		raw += n
	}
	s.RawBytes += int64(sign) * raw
	s.StoredBytes += int64(sign) * info.StoredBytes
	if p := info.Source.PatientID; p != "" {
		if s.Patients == nil {
			s.Patients = map[string]int{}
		}
		s.Patients[p] += sign
		if s.Patients[p] <= 0 {
			delete(s.Patients, p)
		}
	} else {
		s.NoPatient += sign
	}
}

func (s Summary) clone() Summary {
	c := s
	c.Flagged = maps.Clone(s.Flagged)
	c.Patients = maps.Clone(s.Patients)
	return c
}
