// Package totalseg reads TotalSegmentator's output as lung masks: a
// folder per scan (named by the scan's uid) holding one NIfTI file per
// structure, on the scan's own grid. The five lobes become voxmine's lung
// labels, right lobes 3 and left lobes 4 (TotalSegmentator's left and
// right are the patient's), and the trachea, where it was asked for, 5.
// Researchers who already ran TotalSegmentator over a dataset can give its
// output to ingest --masks instead of having the lungs computed again.
package totalseg

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"voxmine/ingest/nifti"
	"voxmine/ingest/source"
	"voxmine/store/grid"
)

// structures are the files read and the label each gives.
var structures = map[string]uint8{
	"lung_upper_lobe_right":  grid.LabelLungA,
	"lung_middle_lobe_right": grid.LabelLungA,
	"lung_lower_lobe_right":  grid.LabelLungA,
	"lung_upper_lobe_left":   grid.LabelLungB,
	"lung_lower_lobe_left":   grid.LabelLungB,
	"trachea":                grid.LabelAirway,
}

// structure returns the structure a file holds, or "".
func structure(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".nii.gz", ".nii"} {
		if name, ok := strings.CutSuffix(base, ext); ok {
			if _, known := structures[name]; known {
				return name
			}
		}
	}
	return ""
}

// IsLobe reports whether path is one of TotalSegmentator's lung lobe
// files: a mask, which a dataset folder may hold beside its CT.
func IsLobe(path string) bool {
	s := structure(path)
	return s != "" && s != "trachea"
}

// Masks splits files into TotalSegmentator's structure files (of folders
// that hold lung lobes) and the rest: a dataset folder may hold a CT and
// its TotalSegmentator masks side by side, and the masks are not CT.
func Masks(files []string) (masks, rest []string) {
	lobes := map[string]bool{}
	for _, p := range files {
		if IsLobe(p) {
			lobes[filepath.Dir(p)] = true
		}
	}
	for _, p := range files {
		if structure(p) != "" && lobes[filepath.Dir(p)] {
			masks = append(masks, p)
		} else {
			rest = append(rest, p)
		}
	}
	return masks, rest
}

// Format is TotalSegmentator's output folder as a source.Format for masks.
type Format struct{}

var _ source.Format = Format{}

// Name returns "totalseg".
func (Format) Name() string { return "totalseg" }

// Find takes every folder holding lobe files as the mask of the scan the
// folder is named after.
func (Format) Find(ctx context.Context, files []string) (source.Found, error) {
	var f source.Found
	byDir := map[string][]string{}
	lobes := map[string]bool{}
	for _, p := range files {
		if s := structure(p); s != "" {
			dir := filepath.Dir(p)
			byDir[dir] = append(byDir[dir], p)
			lobes[dir] = lobes[dir] || IsLobe(p)
		}
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		if lobes[d] { // a folder with a trachea alone is not a lung mask
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		sort.Strings(byDir[d])
		f.Scans = append(f.Scans, source.Scan{UID: filepath.Base(d), Format: "totalseg", Files: byDir[d]})
		f.Used = append(f.Used, byDir[d]...)
	}
	return f, ctx.Err()
}

// Info reads the grid of the folder's first file.
func (Format) Info(ctx context.Context, s source.Scan) (*source.Info, error) {
	info, err := nifti.Format{}.Info(ctx, source.Scan{UID: s.UID, Format: "nifti", Files: s.Files[:1]})
	if err != nil {
		return nil, err
	}
	info.Files, info.ElementType = s.Files, "totalseg"
	return info, nil
}

// ReadCT refuses: the folder holds masks.
func (Format) ReadCT(ctx context.Context, s source.Scan) (*source.Info, []int16, error) {
	return nil, nil, &source.UnsupportedError{Path: s.Path(), Feature: "TotalSegmentator's masks as a CT", Hint: "give the folder to --masks"}
}

// ReadLabels merges the folder's structures into one label volume. Every
// file must lie on the first one's grid.
func (Format) ReadLabels(ctx context.Context, s source.Scan) (*source.Info, []uint8, error) {
	var info *source.Info
	var out []uint8
	for _, p := range s.Files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		fi, m, err := nifti.Format{}.ReadLabels(ctx, source.Scan{UID: s.UID, Format: "nifti", Files: []string{p}})
		if err != nil {
			return nil, nil, err
		}
		if info == nil {
			info, out = fi, make([]uint8, len(m))
			info.Files, info.ElementType = s.Files, "totalseg"
		} else if fi.Geometry != info.Geometry {
			return nil, nil, source.Formatf(p, "grid %v differs from %s's %v", fi.Geometry, s.Files[0], info.Geometry)
		}
		label := structures[structure(p)]
		for i, v := range m {
			if v != 0 {
				out[i] = label
			}
		}
	}
	return info, out, nil
}
