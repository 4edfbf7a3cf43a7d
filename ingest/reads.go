package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
func addReads(ctx context.Context, reads []*lidc.Read, scans []Discovered, k int, f *store.Findings) (series int, skipped []source.Skipped) {
	byUID := map[string]Discovered{}
	for _, s := range scans {
		if s.Format == "dicom" {
			byUID[s.UID] = s
		}
	}
	seen := map[[32]byte]string{}
	for _, r := range reads {
		// The same read twice (a series downloaded twice, its XML with
		// it) would double every mark, and so every reader.
		sum := readDigest(r)
		if first, dup := seen[sum]; dup {
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: "the same reads as " + first + ": read once"})
			continue
		}
		seen[sum] = r.Path
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
		g := readGrid(st)
		marks, unplaced, err := lidc.Place(ctx, r, g)
		if err != nil {
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: err.Error()})
			continue
		}
		if len(unplaced) > 0 {
			// The marks that could be placed count; the rest are said.
			skipped = append(skipped, source.Skipped{Path: r.Path, Reason: fmt.Sprintf("%d marks of the read not placed (the rest are): %s",
				len(unplaced), strings.Join(unplaced[:min(3, len(unplaced))], "; "))})
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

// readGrid is the grid LIDC marks are placed on: the scan's even grid
// (the one ingest stores), each file's slice at the index its position
// gives. When a slice is missing, ReadCT interpolates it; indexing the
// files one after another would put every mark past the gap a slice too
// low (2.5 mm on LIDC-IDRI-0001 without one of its files).
func readGrid(st *dicom.Stack) *lidc.Grid {
	n := st.Geometry.Shape[0]
	g := &lidc.Grid{Geometry: st.Geometry, SOPs: make([]string, n), Z: make([]float64, n)}
	d, o, sp := st.Geometry.Direction, st.Geometry.Origin, st.Geometry.Spacing[2]
	for k := range n { // world z of each grid slice (LIDC's imageZposition)
		g.Z[k] = o[2] + d[8]*sp*float64(k)
	}
	for i, s := range st.Slices {
		if s.Frames > 1 {
			continue // the frames of one file share its SOP uid: place marks by z
		}
		k := i
		if i < len(st.Positions) && sp > 0 {
			k = int(math.Round(st.Positions[i] / sp))
		}
		if k >= 0 && k < n {
			g.SOPs[k] = s.SOPUID
		}
	}
	return g
}

// readDigest identifies a read by what it says (its series and every
// session's marks), not by its file.
func readDigest(r *lidc.Read) [32]byte {
	b, _ := json.Marshal(struct {
		S string
		R []lidc.Session
	}{r.SeriesUID, r.Sessions})
	return sha256.Sum256(b)
}
