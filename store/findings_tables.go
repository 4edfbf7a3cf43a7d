package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"voxmine/store/jsonl"
)

// The findings on disk: findings.jsonl and candidates.jsonl, read whole,
// by series, or from a format-1 store's documents, and written whole.

// findingsHeader is the first line of findings.jsonl.
type findingsHeader struct {
	Table   string            `json:"voxmine"` // "findings"
	Format  string            `json:"format"`
	Sources map[string]string `json:"sources,omitempty"`
	Counts  FindingCounts     `json:"counts"`
}

// findingsRecord is a line of findings.jsonl: a series' findings, but its
// candidates, which candidates.jsonl holds (755,000 rows for LUNA16's
// candidates_V2.csv: runs that do not need them do not read them).
type findingsRecord struct {
	UID string `json:"seriesuid"`
	*SeriesFindings
}

// candidatesRecord is a line of candidates.jsonl.
type candidatesRecord struct {
	UID        string       `json:"seriesuid"`
	Candidates [][5]float64 `json:"candidates"`
}

func (r *candidatesRecord) findings() []Finding {
	out := make([]Finding, len(r.Candidates))
	for i, a := range r.Candidates {
		out[i] = Finding{X: a[0], Y: a[1], Z: a[2], Diameter: a[3], Class: int(a[4])}
	}
	return out
}

// findingsTables are the open findings and candidates tables (each nil
// when absent), or a format-1 store's findings read whole.
type findingsTables struct {
	dir        string
	head       findingsHeader
	findings   *jsonl.Table
	candidates *jsonl.Table
	legacy     *Findings
}

func openFindings(dir string, withCandidates bool) (*findingsTables, error) {
	ft := &findingsTables{dir: dir, head: findingsHeader{Format: FormatVersion}}
	path := filepath.Join(dir, findingsFile)
	t, err := jsonl.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, lerr := os.Stat(filepath.Join(dir, legacyFindingsFile)); lerr == nil {
			ft.legacy, err = readLegacyFindings(dir, withCandidates)
			if err == nil && migrated(dir) {
				// A migration went on while the documents were read: the
				// tables it wrote first hold everything.
				return openFindings(dir, withCandidates)
			}
			return ft, err
		}
		if _, serr := os.Stat(path); serr == nil {
			// A migration wrote the table and removed the document
			// between the two looks.
			return openFindings(dir, withCandidates)
		}
		return ft, nil // no findings at all
	}
	if err != nil {
		return nil, err
	}
	ft.findings = t
	if err := json.Unmarshal(t.Header(), &ft.head); err != nil || ft.head.Table != "findings" {
		t.Close()
		return nil, fmt.Errorf("%s:1: not the header of a voxmine findings table", path)
	}
	if withCandidates {
		ft.candidates, err = jsonl.Open(filepath.Join(dir, candidatesFile))
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			ft.close()
			return nil, err
		}
	}
	return ft, nil
}

func (ft *findingsTables) close() {
	if ft.findings != nil {
		ft.findings.Close()
	}
	if ft.candidates != nil {
		ft.candidates.Close()
	}
}

func (ft *findingsTables) empty() *Findings {
	if ft.legacy != nil {
		return &Findings{Format: FormatVersion, Series: map[string]*SeriesFindings{}, Sources: ft.legacy.Sources, Counts: ft.legacy.Counts}
	}
	return &Findings{Format: FormatVersion, Series: map[string]*SeriesFindings{}, Sources: ft.head.Sources, Counts: ft.head.Counts}
}

// all reads every series' findings.
func (ft *findingsTables) all() (*Findings, error) {
	if ft.legacy != nil {
		return ft.legacy, nil
	}
	f := ft.empty()
	if ft.findings != nil {
		err := ft.findings.Scan(func(uid string, line []byte) error {
			sf, err := ft.decodeSeries(uid, line)
			f.Series[uid] = sf
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if ft.candidates != nil {
		err := ft.candidates.Scan(func(uid string, line []byte) error {
			cands, err := ft.decodeCandidates(uid, line)
			sf := f.Series[uid]
			if sf == nil {
				sf = &SeriesFindings{}
				f.Series[uid] = sf
			}
			sf.Candidates = cands
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (ft *findingsTables) decodeSeries(uid string, line []byte) (*SeriesFindings, error) {
	sf := &SeriesFindings{}
	if err := json.Unmarshal(line, sf); err != nil {
		return nil, fmt.Errorf("%s: the findings of %.80q: %w", ft.findings.Path(), uid, err)
	}
	return sf, nil
}

func (ft *findingsTables) decodeCandidates(uid string, line []byte) ([]Finding, error) {
	var r candidatesRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("%s: the candidates of %.80q: %w", ft.candidates.Path(), uid, err)
	}
	return r.findings(), nil
}

// one reads the findings of series uid (nil when it has none), found by
// binary search in each table.
func (ft *findingsTables) one(uid string) (*SeriesFindings, error) {
	if ft.legacy != nil {
		return ft.legacy.Series[uid], nil
	}
	var sf *SeriesFindings
	if ft.findings != nil {
		line, err := ft.findings.Find(uid)
		if err != nil {
			return nil, err
		}
		if line != nil {
			if sf, err = ft.decodeSeries(uid, line); err != nil {
				return nil, err
			}
		}
	}
	if ft.candidates != nil {
		line, err := ft.candidates.Find(uid)
		if err != nil {
			return nil, err
		}
		if line != nil {
			cands, err := ft.decodeCandidates(uid, line)
			if err != nil {
				return nil, err
			}
			if sf == nil {
				sf = &SeriesFindings{}
			}
			sf.Candidates = cands
		}
	}
	return sf, nil
}

// of reads the findings of the series uids name, each found by binary
// search: a run over 100 scans of a large store reads 100 records.
func (ft *findingsTables) of(uids []string) (*Findings, error) {
	f := ft.empty()
	for _, uid := range uids {
		sf, err := ft.one(uid)
		if err != nil {
			return nil, err
		}
		if sf != nil {
			f.Series[uid] = sf
		}
	}
	return f, nil
}

func readFindings(dir string, withCandidates bool) (*Findings, error) {
	ft, err := openFindings(dir, withCandidates)
	if err != nil {
		return nil, err
	}
	defer ft.close()
	return ft.all()
}

// migrated reports whether a migration has removed a format-1 findings
// document (having written the tables first).
func migrated(dir string) bool {
	for _, name := range []string{legacyFindingsFile, legacyCandidatesFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(filepath.Join(dir, findingsFile)); err == nil {
				return true
			}
		}
	}
	return false
}

// readLegacyFindings reads a format-1 store's findings.json (and
// candidates.json), each one JSON document.
func readLegacyFindings(dir string, withCandidates bool) (*Findings, error) {
	f := &Findings{Format: FormatVersion}
	if err := readJSONIfExists(filepath.Join(dir, legacyFindingsFile), f); err != nil {
		return nil, err
	}
	if f.Series == nil {
		f.Series = map[string]*SeriesFindings{}
	}
	if withCandidates {
		var c struct {
			Series map[string][][5]float64 `json:"series"`
		}
		if err := readJSONIfExists(filepath.Join(dir, legacyCandidatesFile), &c); err != nil {
			return nil, err
		}
		for uid, rows := range c.Series {
			r := candidatesRecord{UID: uid, Candidates: rows}
			sf := f.Series[uid]
			if sf == nil {
				sf = &SeriesFindings{}
				f.Series[uid] = sf
			}
			sf.Candidates = r.findings()
		}
	}
	for uid, sf := range f.Series {
		f.Counts.add(uid, sf)
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

// writeTable writes a jsonl table at path: header, then the record of
// each uid (in order) that record returns, nil for none.
func writeTable(path string, header any, uids []string, record func(uid string) any) error {
	head, err := json.Marshal(header)
	if err != nil {
		return err
	}
	return jsonl.Write(path, head, func(yield func([]byte) error) error {
		for _, uid := range uids {
			r := record(uid)
			if r == nil {
				continue
			}
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := yield(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFindings writes f as findings.jsonl and candidates.jsonl, the
// candidates first: a reader that finds the new findings table finds the
// candidates that go with it. The store lock is held.
func writeFindings(dir string, f *Findings) error {
	uids := slices.Sorted(maps.Keys(f.Series))
	var counts FindingCounts
	for _, uid := range uids {
		counts.add(uid, f.Series[uid])
	}
	err := writeTable(filepath.Join(dir, candidatesFile), map[string]any{"voxmine": "candidates", "format": FormatVersion}, uids,
		func(uid string) any {
			sf := f.Series[uid]
			if len(sf.Candidates) == 0 {
				return nil
			}
			r := candidatesRecord{UID: uid, Candidates: make([][5]float64, len(sf.Candidates))}
			for i, c := range sf.Candidates {
				r.Candidates[i] = [5]float64{c.X, c.Y, c.Z, c.Diameter, float64(c.Class)}
			}
			return r
		})
	if err != nil {
		return err
	}
	err = writeTable(filepath.Join(dir, findingsFile), findingsHeader{Table: "findings", Format: FormatVersion, Sources: f.Sources, Counts: counts}, uids,
		func(uid string) any {
			sf := *f.Series[uid]
			sf.Candidates = nil
			if len(sf.Annotations)+len(sf.Excluded)+len(sf.Reads) == 0 && sf.PatientID == "" {
				return nil
			}
			return findingsRecord{UID: uid, SeriesFindings: &sf}
		})
	if err != nil {
		return err
	}
	for _, name := range []string{legacyFindingsFile, legacyCandidatesFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
