package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"voxmine/ingest/dicom"
	"voxmine/ingest/lidc"
	"voxmine/ingest/source"
	"voxmine/store"
)

// findReads parses the LIDC XML read messages among files (those no format
// took). XML that is not an LIDC read is passed over; a broken read is
// skipped with the reason.
func findReads(files []string) ([]*lidc.Read, []source.Skipped) {
	var reads []*lidc.Read
	var skipped []source.Skipped
	for _, p := range files {
		if !strings.EqualFold(filepath.Ext(p), ".xml") {
			continue
		}
		r, err := lidc.ReadFile(p)
		switch {
		case errors.Is(err, lidc.ErrNotLIDC):
		case err != nil:
			skipped = append(skipped, source.Skipped{Path: p, Reason: err.Error()})
		default:
			reads = append(reads, r)
		}
	}
	return reads, skipped
}

// addReads turns the LIDC reads of the DICOM series found into findings:
// for each series with reads, every reader's marks placed on its grid,
// clustered, and the clusters marked by at least k readers annotations,
// the rest excluded findings, with what the readers said kept beside them.
// A read that cannot be placed fails only its own annotations: it is
// returned among the skipped, and the scan is still ingested.
func addReads(ctx context.Context, reads []*lidc.Read, scans []Found, k int, f *store.Findings) (series int, skipped []source.Skipped) {
	byUID := map[string]Found{}
	for _, s := range scans {
		if s.Format == "dicom" {
			byUID[s.UID] = s
		}
	}
	for _, r := range reads {
		sc, ok := byUID[r.SeriesUID]
		if !ok {
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: fmt.Sprintf("reads of series %s, which is not among the DICOM series found", r.SeriesUID)})
			continue
		}
		st, err := dicom.StackOf(ctx, sc.Scan)
		if err != nil {
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: err.Error()})
			continue
		}
		g := &lidc.Grid{Geometry: st.Geometry}
		for _, s := range st.Slices {
			sop := s.SOPUID
			if s.Frames > 1 {
				sop = "" // the frames of one file share it: place marks by z
			}
			g.SOPs = append(g.SOPs, sop)
			g.Z = append(g.Z, s.Position[2])
		}
		marks, err := lidc.Place(r, g)
		if err != nil {
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: err.Error()})
			continue
		}
		sf := f.Series[r.SeriesUID]
		if sf == nil {
			sf = &store.SeriesFindings{}
			f.Series[r.SeriesUID] = sf
		}
		abs, _ := filepath.Abs(r.Path)
		for _, c := range lidc.Clusters(marks, g.Geometry, k) {
			rn := store.ReadNodule{Annotation: -1, Excluded: -1, Readers: c.Readers, Marks: len(c.Marks), Source: abs,
				BoxLo: [3]int{c.Lo.K, c.Lo.Y, c.Lo.X}, BoxHi: [3]int{c.Hi.K, c.Hi.Y, c.Hi.X}, Consensus: c.ConsensusRuns()}
			if c.Chars != nil {
				v := c.Chars.Values()
				rn.Characteristics = &v
			}
			fd := store.Finding{X: c.Centre[0], Y: c.Centre[1], Z: c.Centre[2], Diameter: c.Diameter, Class: -1}
			if c.Consensus {
				rn.Annotation = len(sf.Annotations)
				sf.Annotations = append(sf.Annotations, fd)
			} else {
				rn.Excluded = len(sf.Excluded)
				sf.Excluded = append(sf.Excluded, fd)
			}
			sf.Reads = append(sf.Reads, rn)
		}
		series++
	}
	return series, skipped
}
