package dicom

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"voxmine/ingest/source"
)

// Format is DICOM as a source.Format: a scan is a CT image series, keyed
// by its SeriesInstanceUID (LUNA16's seriesuid for LIDC-IDRI).
type Format struct{}

var _ source.Format = Format{}

// Name returns "dicom".
func (Format) Name() string { return "dicom" }

// Find reads the header of every file it is offered, keeps the DICOM
// images and groups them into series. Localizers (ImageType LOCALIZER) and
// series of another modality than CT are skipped with the reason, and so
// are files whose header is broken; files that are not DICOM at all are
// left alone.
func (Format) Find(ctx context.Context, files []string) (source.Found, error) {
	var f source.Found
	series := map[string][]string{}
	var order []string
	skippedSeries := map[string]string{}
	aside := map[string][]source.Skipped{} // images without a place in the patient, by series
	for i, p := range files {
		if i%64 == 0 && ctx.Err() != nil {
			return f, ctx.Err()
		}
		s, err := ParseFile(p)
		if errors.Is(err, errNotDICOM) {
			continue
		}
		if err != nil {
			f.Used = append(f.Used, p)
			f.Skipped = append(f.Skipped, source.Skipped{Path: p, Reason: err.Error()})
			continue
		}
		f.Used = append(f.Used, p)
		uid := seriesUID(s)
		switch {
		case s.pixelsAt < 0 && !s.encapsulated:
			continue // not an image: a DICOMDIR, a report, a presentation state
		case slices.ContainsFunc(s.ImageType, func(t string) bool { return strings.EqualFold(t, "LOCALIZER") }):
			skippedSeries[uid] = "localizer (scout) images"
			f.Skipped = append(f.Skipped, source.Skipped{Path: p, Reason: "localizer (ImageType LOCALIZER)"})
			continue
		case s.Modality != "" && s.Modality != "CT":
			if _, seen := skippedSeries[uid]; !seen {
				f.Skipped = append(f.Skipped, source.Skipped{Path: p, Reason: fmt.Sprintf("series %s: modality %s, not CT", uid, s.Modality)})
			}
			skippedSeries[uid] = "modality " + s.Modality
			continue
		}
		if reason := unplaceable(s); reason != "" {
			aside[uid] = append(aside[uid], source.Skipped{Path: p, Reason: reason})
			continue
		}
		if _, ok := series[uid]; !ok {
			order = append(order, uid)
		}
		series[uid] = append(series[uid], p)
	}
	for _, uid := range order {
		f.Scans = append(f.Scans, source.Scan{UID: uid, Format: "dicom", Files: series[uid]})
	}
	// Images that cannot be placed are left out of a series that has
	// slices; a series of nothing else (screenshots, or files from before
	// DICOM 3 without a position) is left out as a whole, said once.
	for uid, sk := range aside {
		if _, ok := series[uid]; ok {
			f.Skipped = append(f.Skipped, sk...)
			continue
		}
		f.Skipped = append(f.Skipped, source.Skipped{Path: sk[0].Path,
			Reason: fmt.Sprintf("series %s: none of its %d images can be placed in a volume (%s)", uid, len(sk), sk[0].Reason)})
	}
	sort.Slice(f.Skipped, func(i, j int) bool { return f.Skipped[i].Path < f.Skipped[j].Path })
	return f, nil
}

// unplaceable says why an image cannot be a slice of a volume, or "" if
// it can: a CT series may carry a dose report or a screenshot (secondary
// capture, often of modality CT) without a position in the patient, which
// would otherwise fail the whole series.
func unplaceable(s *Slice) string {
	frames, err := s.Split()
	if err != nil {
		return err.Error()
	}
	if f := frames[0]; !f.HasPosition || !f.HasOrientation {
		return "no ImagePositionPatient or ImageOrientationPatient: a dose report or screenshot, or a file from before DICOM 3, not a slice"
	}
	return ""
}

// StackOf parses a series' headers and sorts them: its geometry and its
// slices, whose SOP instance uids LIDC's reads point at.
func StackOf(ctx context.Context, s source.Scan) (*Stack, error) { return stack(ctx, s) }

// stack parses a series' headers and sorts them.
func stack(ctx context.Context, s source.Scan) (*Stack, error) {
	sl := make([]*Slice, 0, len(s.Files))
	for i, p := range s.Files {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		h, err := ParseFile(p)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", s.UID, err)
		}
		frames, err := h.Split()
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", s.UID, err)
		}
		sl = append(sl, frames...)
	}
	return NewStack("series "+s.UID, sl)
}

func (st *Stack) info() *source.Info {
	var files []string
	for _, s := range st.Slices {
		if !slices.Contains(files, s.Path) { // a multi-frame file once
			files = append(files, s.Path)
		}
	}
	f := st.Slices[0]
	kind := fmt.Sprintf("%s%d", map[bool]string{false: "uint", true: "int"}[f.PixelRepresentation == 1], f.BitsAllocated)
	if f.BitsStored > 0 && f.BitsStored < f.BitsAllocated {
		kind += fmt.Sprintf(" (%d bits stored)", f.BitsStored)
	}
	prov := source.Provenance{PatientID: f.PatientID, StudyUID: f.StudyUID, StudyDate: f.StudyDate,
		Description: f.Description, Kernel: strings.ReplaceAll(f.Kernel, `\`, " ")}
	if t, err := strconv.ParseFloat(strings.TrimSpace(f.SliceThickness), 64); err == nil && t > 0 && t < 1000 {
		prov.SliceThickness = t
	}
	return &source.Info{Geometry: st.Geometry, ElementType: kind, Files: files, Notes: st.Notes, Provenance: prov}
}

// Info reads the series' headers and works out its geometry.
func (Format) Info(ctx context.Context, s source.Scan) (*source.Info, error) {
	st, err := stack(ctx, s)
	if err != nil {
		return nil, err
	}
	return st.info(), nil
}

// ReadCT reads the series as HU.
func (Format) ReadCT(ctx context.Context, s source.Scan) (*source.Info, []int16, error) {
	st, err := stack(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	hu, err := st.ReadCT(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("series %s: %w", s.UID, err)
	}
	return st.info(), hu, nil
}

// ReadLabels reads a DICOM label volume (a segmentation stored as an
// image series): the stored values, which must be whole numbers in 0…255.
func (Format) ReadLabels(ctx context.Context, s source.Scan) (*source.Info, []uint8, error) {
	info, hu, err := Format{}.ReadCT(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	out := make([]uint8, len(hu))
	for i, v := range hu {
		if v < 0 || v > 255 {
			return nil, nil, fmt.Errorf("series %s: label %d at voxel %d is not in 0…255", s.UID, v, i)
		}
		out[i] = uint8(v)
	}
	return info, out, nil
}
