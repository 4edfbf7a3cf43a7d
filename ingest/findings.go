package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"voxmine/internal/clip"
	"voxmine/store"
)

// CSVKind says which LUNA16 table a file holds.
type CSVKind int

// The three tables ingest reads.
const (
	Annotations CSVKind = iota
	Excluded
	Candidates
)

func (k CSVKind) String() string {
	return [...]string{"annotations", "excluded", "candidates"}[k]
}

// ReadFindings parses a LUNA16 CSV (seriesuid, coordX, coordY, coordZ and
// diameter_mm or class) into f, by series; other datasets' tables with
// these columns under their own names (columnNames) too. Errors name
// file:line.
func ReadFindings(path string, kind CSVKind, f *store.Findings) (rows int, err error) {
	rows, _, err = readFindings(path, kind, f)
	return rows, err
}

// columnNames are the spellings of each column that real CSVs use, after
// norm: LUNA16's (seriesuid, coordX, diameter_mm), LUNA25's and other
// grand-challenge sets' (SeriesInstanceUID, CoordX, "Diameter [mm]"), and
// plain x, y, z.
var columnNames = map[string][]string{
	"seriesuid":   {"seriesuid", "seriesinstanceuid"},
	"coordX":      {"coordx", "x", "worldx"},
	"coordY":      {"coordy", "y", "worldy"},
	"coordZ":      {"coordz", "z", "worldz"},
	"diameter_mm": {"diametermm", "diameter"},
	"class":       {"class"},
}

// norm lower-cases a header and keeps its letters and digits only.
func norm(h string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, h)
}

// readFindings is ReadFindings, with a note on how the file was read when
// it is not LUNA16's layout (an annotations file without diameters: each
// nodule then counts as store.UnknownDiameter, as LUNA16's evaluation
// counts −1).
func readFindings(path string, kind CSVKind, f *store.Findings) (rows int, note string, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return 0, "", fmt.Errorf("%s:1: %w", path, err)
	}
	header = slices.Clone(header) // ReuseRecord: the next Read overwrites it
	last := "diameter_mm"
	if kind == Candidates {
		last = "class"
	}
	want := []string{"seriesuid", "coordX", "coordY", "coordZ", last}
	col := map[string]int{}
	patientCol := -1 // LUNA25 names each series' patient
	labelCol := -1   // and each nodule's label (malignant 1, benign 0)
	for i, h := range header {
		n := norm(strings.TrimPrefix(h, "\ufeff"))
		switch {
		case n == "patientid":
			patientCol = i
		case (n == "label" || n == "malignancy") && kind == Annotations:
			labelCol = i
		}
		for _, w := range want {
			if !slices.Contains(columnNames[w], n) {
				continue
			}
			if j, dup := col[w]; dup {
				return 0, "", fmt.Errorf("%s:1: columns %s and %s both give %s", path, clip.Q(header[j]), clip.Q(h), w)
			}
			col[w] = i
		}
	}
	// A candidates table given as annotations would make every class-0
	// row (a CAD false positive) a 10 mm "nodule".
	classCol := slices.IndexFunc(header, func(h string) bool { return norm(strings.TrimPrefix(h, "\ufeff")) == "class" })
	if _, diameter := col["diameter_mm"]; kind != Candidates && classCol >= 0 && !diameter {
		return 0, "", fmt.Errorf("%s:1: a class column and no diameter: this looks like a candidates table (candidates.csv); give it to --candidates, not as %s", path, kind)
	}
	noDiameter := false
	for _, w := range want {
		if _, ok := col[w]; !ok {
			if w == "diameter_mm" && kind == Annotations {
				noDiameter = true // LUNA25 lists nodules without a size
				continue
			}
			return 0, "", fmt.Errorf("%s:1: no %q column (header %s); a %s file needs %v", path, w, clip.String(fmt.Sprint(header), clip.Max), kind, want)
		}
	}
	if noDiameter {
		want = want[:4]
		note = fmt.Sprintf("%s has no diameter column: its nodules count as %g mm for the distance rules", filepath.Base(path), store.UnknownDiameter)
	}
	if f.Series == nil {
		f.Series = map[string]*store.SeriesFindings{}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // a *csv.ParseError, which says its line
			return rows, note, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0) // only after a record was read: FieldPos panics after an error
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < len(header) {
			return rows, note, fmt.Errorf("%s:%d: %d fields, the header has %d", path, line, len(rec), len(header))
		}
		v := [4]float64{3: -1} // no diameter column: unknown
		for i, name := range want[1:] {
			s := strings.TrimSpace(rec[col[name]])
			x, perr := strconv.ParseFloat(s, 64)
			if perr != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return rows, note, fmt.Errorf("%s:%d: %s %s is not a number", path, line, name, clip.Q(s))
			}
			v[i] = x
		}
		uid := strings.TrimSpace(rec[col["seriesuid"]])
		if uid == "" {
			return rows, note, fmt.Errorf("%s:%d: empty seriesuid", path, line)
		}
		fd := store.Finding{X: v[0], Y: v[1], Z: v[2], Diameter: v[3], Class: -1, Row: line}
		sf := f.Series[uid]
		if sf == nil {
			sf = &store.SeriesFindings{}
			f.Series[uid] = sf
		}
		if patientCol >= 0 && sf.PatientID == "" {
			sf.PatientID = strings.TrimSpace(rec[patientCol])
		}
		switch kind {
		case Annotations:
			if v[3] <= 0 && !noDiameter {
				return rows, note, fmt.Errorf("%s:%d: diameter_mm %v is not positive", path, line, v[3])
			}
			if labelCol >= 0 {
				t := strings.TrimSpace(rec[labelCol])
				l, err := strconv.Atoi(t)
				if err != nil || l < 0 {
					return rows, note, fmt.Errorf("%s:%d: %s %s is not a whole number ≥ 0", path, line, clip.Q(header[labelCol]), clip.Q(t))
				}
				fd.Class = l
			}
			sf.Annotations = append(sf.Annotations, fd)
		case Excluded:
			sf.Excluded = append(sf.Excluded, fd)
		case Candidates:
			if v[3] != 0 && v[3] != 1 {
				return rows, note, fmt.Errorf("%s:%d: class %v is not 0 or 1", path, line, v[3])
			}
			fd.Class, fd.Diameter = int(v[3]), 0
			sf.Candidates = append(sf.Candidates, fd)
		}
		rows++
	}
	return rows, note, nil
}

// readCSVs reads the annotation, excluded and candidate CSVs the options
// name into one Findings, counting their rows in rep.
func (o Options) readCSVs(rep *Report) (*store.Findings, error) {
	findings := &store.Findings{Series: map[string]*store.SeriesFindings{}, Sources: map[string]string{}}
	for _, c := range []struct {
		path string
		kind CSVKind
	}{{o.Annotations, Annotations}, {o.Excluded, Excluded}, {o.Candidates, Candidates}} {
		if c.path == "" {
			continue
		}
		n, note, err := readFindings(c.path, c.kind, findings)
		if err != nil {
			return nil, err
		}
		rep.FindingRows[c.kind.String()] = n
		if note != "" {
			rep.CSVNotes = append(rep.CSVNotes, note)
		}
		abs, _ := filepath.Abs(c.path)
		findings.Sources[c.kind.String()] = abs
	}
	return findings, nil
}

// match counts, per kind, the series of the findings and how many of them
// (and which rows not) belong to a known scan.
func (rep *Report) match(findings *store.Findings, known map[string]bool) {
	for uid, sf := range findings.Series {
		for kind, n := range map[string]int{"annotations": len(sf.Annotations), "excluded": len(sf.Excluded), "candidates": len(sf.Candidates)} {
			if n == 0 {
				continue
			}
			rep.Series[kind]++
			if known[uid] {
				rep.SeriesMatched[kind]++
			} else {
				rep.Unmatched[kind] += n
			}
		}
	}
}

// LoadFindings puts the CSVs o names (Annotations, Excluded, Candidates)
// into the existing store at o.StoreDir without reading a scan: the way to
// add candidates later or load a corrected annotations.csv. Each named kind
// replaces that kind's findings in every series (SetFindings); the report
// counts the rows and how many series match a stored scan (Found is the
// number of stored scans).
func LoadFindings(ctx context.Context, o Options) (*Report, error) {
	if o.Annotations == "" && o.Excluded == "" && o.Candidates == "" {
		return nil, errors.New("no CSV to load: name --annotations, --annotations-excluded or --candidates")
	}
	st, err := store.Open(o.StoreDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep := &Report{FindingRows: map[string]int{}, Unmatched: map[string]int{}, Series: map[string]int{}, SeriesMatched: map[string]int{}}
	findings, err := o.readCSVs(rep)
	if err != nil {
		return nil, err
	}
	uids, err := st.UIDs()
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(uids))
	for _, u := range uids {
		known[u] = true
	}
	rep.Mapped = len(known)
	rep.match(findings, known)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, err := store.NewWriter(o.StoreDir, o.writeOptions())
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return rep, w.SetFindings(findings, nil)
}

// findCSVs fills in, from the source folders, the LUNA16 CSVs not named
// (LUNA16's download keeps them beside the subsets), when FindCSVs is set,
// and returns what it took.
func (o *Options) findCSVs() map[string]string {
	took := map[string]string{}
	if !o.FindCSVs {
		return took
	}
	for _, c := range []struct {
		kind  string
		dst   *string
		names []string
	}{
		{"annotations", &o.Annotations, []string{"annotations.csv"}},
		{"excluded", &o.Excluded, []string{"annotations_excluded.csv", filepath.Join("evaluationScript", "annotations_excluded.csv")}},
		{"candidates", &o.Candidates, []string{"candidates_V2.csv", filepath.Join("candidates_V2", "candidates_V2.csv"), "candidates.csv"}},
	} {
		if *c.dst != "" {
			continue
		}
	search:
		for _, src := range o.Sources {
			for _, n := range c.names {
				if st, err := os.Stat(filepath.Join(src, n)); err == nil && st.Mode().IsRegular() {
					*c.dst = filepath.Join(src, n)
					took[c.kind] = *c.dst
					break search
				}
			}
		}
	}
	return took
}
