// Package source is the contract between ingest's pipeline and the
// readers of scan formats. A Format finds its scans among the files of a
// dataset, tells their geometry cheaply, and reads their voxels as HU or
// labels; ingest resamples, segments and stores what it gets the same way
// whatever the format. Each format lives in its own package beside this
// one (ingest/metaimage, …) and is listed explicitly in ingest.Options:
// MetaImage has no magic bytes to sniff, so there is no registry.
package source

import (
	"context"
	"errors"
	"fmt"

	"voxmine/store/grid"
)

// A Format reads one kind of scan file.
type Format interface {
	// Name is the format's short name ("metaimage"), recorded per scan.
	Name() string
	// Find picks out this format's scans among files (paths below the
	// sources, sorted). It returns the scans, every file it used (which
	// later formats then do not look at), and the files it recognised but
	// cannot use, each with the reason. It fails only when it cannot look
	// at all; a bad file is skipped, not an error.
	Find(ctx context.Context, files []string) (Found, error)
	// Info reads what ingest needs before the voxels: the grid, the
	// element type, the files whose change means the scan must be read
	// again. It is the cheap pass (image.DecodeConfig's analogue).
	Info(ctx context.Context, s Scan) (*Info, error)
	// ReadCT reads the scan's voxels as int16 HU, z, y, x order.
	ReadCT(ctx context.Context, s Scan) (*Info, []int16, error)
	// ReadLabels reads a label volume (a lung mask) as uint8.
	ReadLabels(ctx context.Context, s Scan) (*Info, []uint8, error)
}

// Scan is one scan a Format found: its series uid, the format that found
// it and its files, the first of which names it in messages.
type Scan struct {
	UID    string
	Format string
	Files  []string
}

// Path is the file that names the scan in messages (a header, a series'
// first slice).
func (s Scan) Path() string {
	if len(s.Files) == 0 {
		return ""
	}
	return s.Files[0]
}

// Info is what a format tells of a scan before reading its voxels.
type Info struct {
	Geometry grid.Geometry
	// ElementType is the stored type in the format's own terms
	// ("MET_SHORT", "int16", …), recorded in the catalog.
	ElementType string
	// Files are the files whose names, sizes and times identify the
	// scan's content for resuming.
	Files []string
	// Notes are what the reader did that a user should know of (a DICOM
	// series interpolated onto even slices); ingest records them among the
	// scan's flags.
	Notes []string
	// Provenance is the patient, study and series the scan belongs to,
	// where the format says.
	Provenance Provenance
}

// Skipped is a file or series a format recognised and left out.
type Skipped struct {
	Path   string
	Reason string
}

// Found is what Find returns.
type Found struct {
	Scans   []Scan
	Used    []string
	Skipped []Skipped
}

// FormatError reports a file that is not what its format says: a broken
// header, missing data, values that do not fit.
type FormatError struct {
	Path string
	Err  error
}

func (e *FormatError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports a valid file of a variant voxmine does not read
// (a MetaImage slice list, a compressed DICOM transfer syntax), with what
// to do about it when there is something.
type UnsupportedError struct {
	Path    string
	Feature string
	Hint    string // how to convert it, or empty
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("%s: %s is not supported", e.Path, e.Feature)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// ErrUnsupported is matched by every *UnsupportedError under errors.Is.
var ErrUnsupported = errors.New("unsupported")

// Is lets errors.Is(err, ErrUnsupported) find an UnsupportedError.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// Formatf returns a *FormatError for path.
func Formatf(path, format string, a ...any) error {
	return &FormatError{Path: path, Err: fmt.Errorf(format, a...)}
}

// Provenance is who and what a scan is, as far as its source says (DICOM
// does; MetaImage and NIfTI carry none of it). It has the fields of
// store.Provenance, which the pipeline converts it to: the readers describe
// a scan without importing the store.
type Provenance struct {
	PatientID   string
	StudyUID    string
	StudyDate   string // YYYYMMDD, as DICOM writes it
	Description string
	Kernel      string // the reconstruction kernel (ConvolutionKernel)
	// SliceThickness is the nominal reconstructed thickness in mm
	// (SliceThickness), 0 when unknown; the spacing of slices is the
	// geometry's.
	SliceThickness float64
}
