package store

import (
	"encoding/json"
	"sync"
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
// own files so that per-scan catalog updates stay small.
type Findings struct {
	Format string                     `json:"format"`
	Series map[string]*SeriesFindings `json:"series"`
	// Sources records the CSV files the findings came from.
	Sources map[string]string `json:"sources,omitempty"`
	// Counts sum up the store's findings, all of them, even when Series
	// holds only some series (Store.FindingsOf).
	Counts FindingCounts `json:"-"`

	// tables, when set (Store.OpenFindings), are read by Of for the
	// series Series does not hold; err is the first read that failed.
	tables *findingsTables
	mu     sync.Mutex
	err    error
	// recent holds the last series Of read from tables, next the slot
	// the next read takes: a run asks for one scan's findings a few
	// times close together (its plan, its sampling, its count), and each
	// read is a binary search of a table on disk.
	recent [8]recentFindings
	next   int
}

// recentFindings is one series Of read: sf is nil for a series with no
// findings.
type recentFindings struct {
	uid string
	sf  *SeriesFindings
}

// Of returns the findings of series uid, or nil. Findings that
// Store.OpenFindings returned read the series from the store's tables (a
// binary search), holding only the last few read: a pass over 200,000
// scans then keeps a few series' findings at a time. A read that fails
// returns nil and is kept for Err. What Of returns is shared: read it,
// do not change it.
func (f *Findings) Of(uid string) *SeriesFindings {
	if sf := f.Series[uid]; sf != nil || f.tables == nil {
		return sf
	}
	f.mu.Lock()
	for _, r := range f.recent {
		if r.uid == uid {
			f.mu.Unlock()
			return r.sf
		}
	}
	f.mu.Unlock()
	sf, err := f.tables.one(uid)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		if f.err == nil {
			f.err = err
		}
		return nil
	}
	f.recent[f.next] = recentFindings{uid, sf}
	f.next = (f.next + 1) % len(f.recent)
	return sf
}

// Err returns the first error Of met reading the store's tables.
func (f *Findings) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// FindingCounts sum up a store's findings: what `mine info` says of them
// and what decides a run's columns. The findings table's header keeps
// them, so they cost the same at any store size.
type FindingCounts struct {
	Series      int `json:"series"`       // series with annotations or excluded findings
	WithNodules int `json:"with_nodules"` // series with annotations
	Annotations int `json:"annotations"`
	// Labelled counts annotations that carry their table's own label
	// (LUNA25's malignancy); WithReads the series with LIDC-IDRI reads.
	Labelled  int `json:"labelled"`
	WithReads int `json:"with_reads"`
	// From counts series and annotations by where they came from (Origin).
	From map[string][2]int `json:"from,omitempty"`
	// Patients is the patient id a table gives a series (LUNA25's
	// PatientID), by series uid.
	Patients        map[string]string `json:"patients,omitempty"`
	CandidateSeries int               `json:"candidate_series"`
	Candidates      int               `json:"candidates"`
}

func (c *FindingCounts) add(uid string, sf *SeriesFindings) {
	if len(sf.Annotations)+len(sf.Excluded) > 0 {
		c.Series++
	}
	if n := len(sf.Annotations); n > 0 {
		c.WithNodules++
		c.Annotations += n
		if c.From == nil {
			c.From = map[string][2]int{}
		}
		f := c.From[sf.Origin()]
		c.From[sf.Origin()] = [2]int{f[0] + 1, f[1] + n}
	}
	for _, a := range sf.Annotations {
		if a.Class >= 0 {
			c.Labelled++
		}
	}
	if len(sf.Reads) > 0 {
		c.WithReads++
	}
	if sf.PatientID != "" {
		if c.Patients == nil {
			c.Patients = map[string]string{}
		}
		c.Patients[uid] = sf.PatientID
	}
	if n := len(sf.Candidates); n > 0 {
		c.CandidateSeries++
		c.Candidates += n
	}
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
// Annotations and excluded findings go to findings.jsonl, candidates to
// candidates.jsonl.
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
		return writeFindings(w.dir, cur)
	})
}
