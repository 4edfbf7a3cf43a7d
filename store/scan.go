package store

import (
	"time"

	"voxmine/store/grid"
)

// Geometry, Identity and the label values live in package grid, which the
// format readers import without the rest of the store.
type Geometry = grid.Geometry

// Identity is the direction of an unrotated scan.
var Identity = grid.Identity

// Source describes the scan a volume was made from.
type Source struct {
	// Format names the reader that read the scan ("metaimage"); empty in
	// stores written before there was more than one.
	Format      string   `json:"format,omitempty"`
	Path        string   `json:"path"`
	MaskPath    string   `json:"mask_path,omitempty"`
	Geometry    Geometry `json:"geometry"`
	ElementType string   `json:"element_type"`
	// Fingerprint identifies the source files' content and the ingest
	// settings; an unchanged fingerprint means the stored volume is current.
	Fingerprint string `json:"fingerprint"`
	Provenance
}

// Provenance is who and what a scan is, as far as its source says (DICOM
// does; MetaImage and NIfTI carry none of it). A training set split by
// patient, not by series, keeps the scans of one patient (a screening
// round each year, a second reconstruction) on one side.
type Provenance struct {
	PatientID   string `json:"patient_id,omitempty"`
	StudyUID    string `json:"study_uid,omitempty"`
	StudyDate   string `json:"study_date,omitempty"` // YYYYMMDD, as DICOM writes it
	Description string `json:"series_description,omitempty"`
	Kernel      string `json:"kernel,omitempty"` // the reconstruction kernel (ConvolutionKernel)
	// SliceThickness is the nominal reconstructed thickness in mm, as
	// DICOM's SliceThickness says (0: unknown). NLST-like studies hold a
	// thin and a thick reconstruction; the spacing is the geometry's.
	SliceThickness float64 `json:"slice_thickness,omitempty"`
}

// ScanInfo is what the catalog knows of one stored scan. The same record is
// kept in the scan's group attributes, so the catalog can be rebuilt from
// the scans alone.
type ScanInfo struct {
	UID        string   `json:"seriesuid"`
	VolumeUUID string   `json:"volume_uuid"`
	Grid       Geometry `json:"grid"`
	Source     Source   `json:"source"`
	PadHU      int16    `json:"pad_hu"`
	// HasLabels says whether a label (lung mask) array exists.
	HasLabels bool `json:"has_labels"`
	// LabelSource says where the labels came from, empty when there are
	// none.
	LabelSource LabelSource `json:"label_source,omitempty"`
	// LungVoxels counts voxels labelled 3 or 4 (the lungs; 5 is the airway).
	LungVoxels  int64            `json:"lung_voxels"`
	LabelCounts map[string]int64 `json:"label_counts,omitempty"`
	// Flags lists implausible findings about the scan (lung volume, a
	// missing lung), reported rather than hidden.
	Flags []string `json:"flags,omitempty"`
	// StoredBytes is the size of the scan's shard files (0 in records
	// written before it was kept, until a writer migrates the store).
	StoredBytes int64     `json:"stored_bytes,omitempty"`
	HUMin       int16     `json:"hu_min"`
	HUMax       int16     `json:"hu_max"`
	Ingested    time.Time `json:"ingested"`
	Tool        string    `json:"tool_version"`
}

// LabelSource is where a scan's labels came from.
type LabelSource string

// Where labels come from.
const (
	LabelsFromFile LabelSource = "file"     // an imported mask (seg-lungs-LUNA16, TotalSegmentator)
	LabelsComputed LabelSource = "computed" // voxmine's own segmentation (ingest/lungseg)
)

// Lung labels, as in the seg-lungs-LUNA16 masks (see grid).
const (
	LabelLungA  = grid.LabelLungA
	LabelLungB  = grid.LabelLungB
	LabelAirway = grid.LabelAirway
)

// IsLung reports whether a label value marks lung parenchyma.
func IsLung(label uint8) bool { return grid.IsLung(label) }
