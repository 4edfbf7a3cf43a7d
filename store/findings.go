package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"voxmine/internal/atomicfile"
)

// Finding is one row of a LUNA16-style CSV in world millimetres.
// Diameter is in mm (−1 when unknown, as in annotations_excluded.csv);
// Class is the candidates.csv class (0 or 1); for annotations it is the
// table's own label where it has one (LUNA25's: malignant 1, benign 0),
// else −1.
type Finding struct {
	X, Y, Z  float64
	Diameter float64
	Class    int
	// Row is the line of the CSV it was read from (0: not from a CSV), for
	// messages about it; it is not stored.
	Row int
}

// UnknownDiameter is the size a finding listed without one (diameter −1,
// or a CSV with no diameter column) counts as in distance rules: 10 mm,
// as the official LUNA16 evaluation counts it.
const UnknownDiameter = 10.0

// MarshalJSON writes a finding as a compact [x, y, z, diameter, class].
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal([5]float64{f.X, f.Y, f.Z, f.Diameter, float64(f.Class)})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var a [5]float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*f = Finding{X: a[0], Y: a[1], Z: a[2], Diameter: a[3], Class: int(a[4])}
	return nil
}

// SeriesFindings are the findings of one series.
type SeriesFindings struct {
	Annotations []Finding `json:"annotations,omitempty"`
	Excluded    []Finding `json:"excluded,omitempty"`
	Candidates  []Finding `json:"candidates,omitempty"`
	// Reads, when the findings came from LIDC-IDRI's XML reads, say what
	// the radiologists made of each annotation and excluded finding.
	Reads []ReadNodule `json:"lidc_reads,omitempty"`
	// PatientID is the patient the table names for the series (LUNA25's
	// PatientID column), for splits of scans that carry none themselves.
	PatientID string `json:"patient_id,omitempty"`
	// From names where the series' annotations came from: a key of
	// Findings.Sources ("annotations" for a CSV, "lidc_reads").
	From string `json:"from,omitempty"`
}

// ReadNodule is what LIDC-IDRI's radiologists said of one physical nodule
// (or non-nodule): the cluster of their marks behind an annotation or an
// excluded finding.
type ReadNodule struct {
	// Annotation and Excluded index the finding it became; the other is −1.
	Annotation int `json:"annotation"`
	Excluded   int `json:"excluded"`
	// Readers counts the radiologists who marked it as a nodule; Marks all
	// their marks (nodules, nodules under 3 mm, non-nodules).
	Readers int `json:"readers"`
	Marks   int `json:"marks"`
	// Characteristics are the readers' median ratings in LIDC's order
	// (subtlety, internalStructure, calcification, sphericity, margin,
	// lobulation, spiculation, texture, malignancy); 0 where none rated.
	Characteristics *[9]int `json:"characteristics,omitempty"`
	// BoxLo and BoxHi bound the marks' voxels on the source grid (slice,
	// row, column).
	BoxLo [3]int `json:"box_lo"`
	BoxHi [3]int `json:"box_hi"`
	// Source is the XML file.
	Source string `json:"source"`
	// Consensus is the nodule's 50 % consensus outline on the source grid:
	// runs (slice, row, first column, last column) of the voxels that at
	// least half of the contoured marks include. Mining turns it into a
	// nodule mask beside the cube (nearest neighbour onto the 1 mm grid).
	Consensus [][4]int `json:"consensus_runs,omitempty"`
}

// Origin is where the series' annotations came from, a key of
// Findings.Sources: From, or for a store written before From was, the
// reads when it has them and the CSV otherwise.
func (s *SeriesFindings) Origin() string {
	switch {
	case s.From != "":
		return s.From
	case len(s.Reads) > 0:
		return "lidc_reads"
	}
	return "annotations"
}

// Read returns the LIDC read behind annotation i, or nil.
func (s *SeriesFindings) Read(annotation int) *ReadNodule {
	for k := range s.Reads {
		if s.Reads[k].Annotation == annotation {
			return &s.Reads[k]
		}
	}
	return nil
}

// UnmarshalJSON decodes the three lists as plain number arrays in one
// pass: LUNA16's candidates_V2.csv has 755,000 rows, and decoding each
// finding on its own would scan the text twice.
func (s *SeriesFindings) UnmarshalJSON(b []byte) error {
	var raw struct {
		Annotations, Excluded, Candidates [][5]float64
		Reads                             []ReadNodule `json:"lidc_reads"`
		PatientID                         string       `json:"patient_id"`
		From                              string       `json:"from"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	conv := func(in [][5]float64) []Finding {
		if len(in) == 0 {
			return nil
		}
		out := make([]Finding, len(in))
		for i, a := range in {
			out[i] = Finding{X: a[0], Y: a[1], Z: a[2], Diameter: a[3], Class: int(a[4])}
		}
		return out
	}
	*s = SeriesFindings{Annotations: conv(raw.Annotations), Excluded: conv(raw.Excluded), Candidates: conv(raw.Candidates), Reads: raw.Reads,
		PatientID: raw.PatientID, From: raw.From}
	return nil
}

// Findings holds the dataset's CSVs grouped by series uid. It lives in its
// own file so that per-scan catalog updates stay small.
type Findings struct {
	Format string                     `json:"format"`
	Series map[string]*SeriesFindings `json:"series"`
	// Sources records the CSV files the findings came from.
	Sources map[string]string `json:"sources,omitempty"`
}

func readFindings(dir string, withCandidates bool) (*Findings, error) {
	f := &Findings{Format: FormatVersion}
	if err := readJSONIfExists(filepath.Join(dir, findingsFile), f); err != nil {
		return nil, err
	}
	if f.Series == nil {
		f.Series = map[string]*SeriesFindings{}
	}
	if !withCandidates {
		return f, nil
	}
	var c struct {
		Series map[string][][5]float64 `json:"series"`
	}
	if err := readJSONIfExists(filepath.Join(dir, candidatesFile), &c); err != nil {
		return nil, err
	}
	for uid, rows := range c.Series {
		sf := f.Series[uid]
		if sf == nil {
			sf = &SeriesFindings{}
			f.Series[uid] = sf
		}
		sf.Candidates = make([]Finding, len(rows))
		for i, a := range rows {
			sf.Candidates[i] = Finding{X: a[0], Y: a[1], Z: a[2], Diameter: a[3], Class: int(a[4])}
		}
	}
	return f, nil
}

func readJSONIfExists(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SetFindings makes f the store's findings for every kind f.Sources names
// ("annotations", "excluded", "candidates", or "lidc_reads", which holds
// annotations, excluded findings and their reads), in the series owns
// accepts (nil: all). A CSV is a whole table: a series that the new CSV
// leaves out loses its old rows of that kind, so loading a corrected
// annotations.csv cannot leave stale nodules behind. LIDC reads cover the
// series they were read for and no other: a new DICOM folder with its XML
// replaces the findings of its own series and leaves the other series'
// findings (from a CSV, or earlier reads) as they were. Kinds f does not
// name, and series owns rejects (the parts of other ingest shards), are
// kept. Each series records where its annotations came from (From). It
// runs under the store lock.
// Annotations and excluded findings go to findings.json, candidates to
// candidates.json.
func (w *Writer) SetFindings(f *Findings, owns func(uid string) bool) error {
	if owns == nil {
		owns = func(string) bool { return true }
	}
	return withLock(w.dir, func() error {
		cur, err := readFindings(w.dir, true)
		if err != nil {
			return err
		}
		_, annotations := f.Sources["annotations"]
		_, excluded := f.Sources["excluded"]
		_, candidates := f.Sources["candidates"]
		_, reads := f.Sources["lidc_reads"]
		for uid, sf := range cur.Series {
			if !owns(uid) {
				continue
			}
			_, covered := f.Series[uid] // the reads' own series
			if annotations || (reads && covered) {
				sf.Annotations, sf.Reads, sf.From = nil, nil, ""
			}
			if excluded || (reads && covered) {
				sf.Excluded = nil
			}
			if candidates {
				sf.Candidates = nil
			}
		}
		for uid, sf := range f.Series {
			if !owns(uid) {
				continue
			}
			old := cur.Series[uid]
			if old == nil {
				old = &SeriesFindings{}
				cur.Series[uid] = old
			}
			if len(sf.Annotations) > 0 || len(sf.Reads) > 0 {
				old.Annotations = sf.Annotations
				old.From = "annotations"
				if reads {
					old.From = "lidc_reads"
				}
			}
			if len(sf.Excluded) > 0 {
				old.Excluded = sf.Excluded
			}
			if len(sf.Candidates) > 0 {
				old.Candidates = sf.Candidates
			}
			if len(sf.Reads) > 0 {
				old.Reads = sf.Reads
			}
			if sf.PatientID != "" {
				old.PatientID = sf.PatientID
			}
		}
		if cur.Sources == nil {
			cur.Sources = map[string]string{}
		}
		for k, v := range f.Sources {
			cur.Sources[k] = v
		}
		// A source no series draws its annotations from any more is gone.
		for _, src := range []string{"annotations", "lidc_reads"} {
			used := false
			for _, sf := range cur.Series {
				used = used || (len(sf.Annotations) > 0 && sf.Origin() == src)
			}
			if _, ok := cur.Sources[src]; ok && !used && f.Sources[src] == "" {
				delete(cur.Sources, src)
			}
		}
		cur.Format = FormatVersion
		small := &Findings{Format: FormatVersion, Sources: cur.Sources, Series: map[string]*SeriesFindings{}}
		cands := map[string][]Finding{}
		for uid, sf := range cur.Series {
			if len(sf.Annotations)+len(sf.Excluded) > 0 {
				small.Series[uid] = &SeriesFindings{Annotations: sf.Annotations, Excluded: sf.Excluded, Reads: sf.Reads, PatientID: sf.PatientID, From: sf.From}
			}
			if len(sf.Candidates) > 0 {
				cands[uid] = sf.Candidates
			}
		}
		b, err := json.Marshal(map[string]any{"format": FormatVersion, "series": cands})
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(w.dir, candidatesFile), append(b, '\n')); err != nil {
			return err
		}
		return writeJSON(filepath.Join(w.dir, findingsFile), small)
	})
}
