package metaimage

import (
	"context"
	"path/filepath"
	"strings"

	"voxmine/ingest/source"
)

// Format is MetaImage as a source.Format: a scan is a .mhd or .mha file
// whose stem is the series uid (LUNA16's naming), with its data file.
type Format struct{}

var _ source.Format = Format{}

// Name returns "metaimage".
func (Format) Name() string { return "metaimage" }

// headerExt reports whether a file name is a MetaImage header.
func headerExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".mhd" || ext == ".mha"
}

// dataExts are the data files that sit beside a header of the same stem;
// Find claims them so that no other format reads them.
var dataExts = []string{".raw", ".zraw", ".img"}

// Find takes every .mhd and .mha as a scan keyed by its stem. It reads no
// header: a broken one fails its scan at ingest, with the reason, rather
// than vanishing here.
func (Format) Find(ctx context.Context, files []string) (source.Found, error) {
	var f source.Found
	stems := map[string]bool{}
	for _, p := range files {
		if headerExt(p) {
			stem := strings.TrimSuffix(p, filepath.Ext(p))
			stems[stem] = true
			f.Scans = append(f.Scans, source.Scan{UID: filepath.Base(stem), Format: "metaimage", Files: []string{p}})
			f.Used = append(f.Used, p)
		}
	}
	for _, p := range files {
		ext := strings.ToLower(filepath.Ext(p))
		for _, d := range dataExts {
			if ext == d && stems[strings.TrimSuffix(p, filepath.Ext(p))] {
				f.Used = append(f.Used, p)
			}
		}
	}
	return f, ctx.Err()
}

// Info reads the header.
func (Format) Info(ctx context.Context, s source.Scan) (*source.Info, error) {
	h, err := ReadHeader(s.Path())
	if err != nil {
		return nil, err
	}
	return h.info(), nil
}

func (h *Header) info() *source.Info {
	files := []string{h.Path}
	if !h.Local {
		files = append(files, h.DataFile)
	}
	return &source.Info{Geometry: h.Geometry(), ElementType: h.ElementType, Files: files}
}

// ReadCT reads the scan as HU.
func (Format) ReadCT(ctx context.Context, s source.Scan) (*source.Info, []int16, error) {
	h, hu, err := ReadCT(s.Path())
	if err != nil {
		return nil, nil, err
	}
	return h.info(), hu, nil
}

// ReadLabels reads a label mask.
func (Format) ReadLabels(ctx context.Context, s source.Scan) (*source.Info, []uint8, error) {
	h, m, err := ReadLabels(s.Path())
	if err != nil {
		return nil, nil, err
	}
	return h.info(), m, nil
}
