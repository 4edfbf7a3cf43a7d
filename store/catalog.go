package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"voxmine/internal/atomicfile"
)

// Store-level file names.
const (
	catalogFile    = "catalog.json"
	findingsFile   = "findings.json"
	candidatesFile = "candidates.json"
	lockName       = ".lock"
	scansDir       = "scans"
)

// Catalog lists every scan of a store. It is voxmine's index of the
// dataset: opening a store reads it and nothing per scan.
type Catalog struct {
	Format string     `json:"format"`
	Scans  []ScanInfo `json:"scans"` // sorted by UID
}

// Finding is one row of a LUNA16-style CSV in world millimetres.
// Diameter is in mm (−1 when unknown, as in annotations_excluded.csv);
// Class is the candidates.csv class (0 or 1) and −1 for annotations.
type Finding struct {
	X, Y, Z  float64
	Diameter float64
	Class    int
}

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
}

// UnmarshalJSON decodes the three lists as plain number arrays in one
// pass: LUNA16's candidates_V2.csv has 755,000 rows, and decoding each
// finding on its own would scan the text twice.
func (s *SeriesFindings) UnmarshalJSON(b []byte) error {
	var raw struct {
		Annotations, Excluded, Candidates [][5]float64
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
	*s = SeriesFindings{Annotations: conv(raw.Annotations), Excluded: conv(raw.Excluded), Candidates: conv(raw.Candidates)}
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

// withLock runs fn while holding an exclusive advisory lock on the store,
// so that concurrent ingest processes serialise their catalog updates.
func withLock(dir string, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("store %s: lock: %w", dir, err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("store %s: lock: %w", dir, err)
	}
	defer unlockFile(f)
	return fn()
}

func readCatalog(dir string) (*Catalog, error) {
	path := filepath.Join(dir, catalogFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Catalog{Format: FormatVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, s := range c.Scans {
		if s.UID == "" || (i > 0 && c.Scans[i-1].UID >= s.UID) {
			return nil, fmt.Errorf("%s: scan %d (%q) is unnamed or out of order", path, i, s.UID)
		}
	}
	return &c, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// updateCatalog applies fn to the catalog under the store lock and writes
// the result atomically. Reading inside the lock means no update is lost
// when several processes write disjoint scans at once.
func updateCatalog(dir string, fn func(*Catalog) error) error {
	return withLock(dir, func() error {
		c, err := readCatalog(dir)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		sort.Slice(c.Scans, func(i, j int) bool { return c.Scans[i].UID < c.Scans[j].UID })
		c.Format = FormatVersion
		return writeJSON(filepath.Join(dir, catalogFile), c)
	})
}

// upsert puts info into the catalog, replacing an entry of the same UID.
func (c *Catalog) upsert(info ScanInfo) {
	i := sort.Search(len(c.Scans), func(i int) bool { return c.Scans[i].UID >= info.UID })
	if i < len(c.Scans) && c.Scans[i].UID == info.UID {
		c.Scans[i] = info
		return
	}
	c.Scans = append(c.Scans, ScanInfo{})
	copy(c.Scans[i+1:], c.Scans[i:])
	c.Scans[i] = info
}

// Lookup returns the entry of uid.
func (c *Catalog) Lookup(uid string) (ScanInfo, bool) {
	i := sort.Search(len(c.Scans), func(i int) bool { return c.Scans[i].UID >= uid })
	if i < len(c.Scans) && c.Scans[i].UID == uid {
		return c.Scans[i], true
	}
	return ScanInfo{}, false
}

// readFindings reads findings.json and, when asked, candidates.json: the
// candidates (755,000 rows for LUNA16's candidates_V2.csv) live in their
// own file so that runs that do not need them do not pay for them.
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

// SetFindings replaces the findings of the series named in f.Series,
// keeping those of other series, under the store lock. Ingest calls it
// once per run with everything its CSVs hold. Annotations and excluded
// findings go to findings.json, candidates to candidates.json.
func (w *Writer) SetFindings(f *Findings) error {
	return withLock(w.dir, func() error {
		cur, err := readFindings(w.dir, true)
		if err != nil {
			return err
		}
		for uid, sf := range f.Series {
			cur.Series[uid] = sf
		}
		if cur.Sources == nil {
			cur.Sources = map[string]string{}
		}
		for k, v := range f.Sources {
			cur.Sources[k] = v
		}
		cur.Format = FormatVersion
		small := &Findings{Format: FormatVersion, Sources: cur.Sources, Series: map[string]*SeriesFindings{}}
		cands := map[string][]Finding{}
		for uid, sf := range cur.Series {
			if len(sf.Annotations)+len(sf.Excluded) > 0 {
				small.Series[uid] = &SeriesFindings{Annotations: sf.Annotations, Excluded: sf.Excluded}
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

// Rebuild writes the catalog anew from the scan groups on disk. It repairs
// a catalog that a crash between a scan's rename and its catalog update
// left behind, and is what `ingest --repair` runs.
func Rebuild(dir string) (int, error) {
	if _, err := readRoot(dir); err != nil {
		return 0, err
	}
	n := 0
	err := updateCatalog(dir, func(c *Catalog) error {
		entries, err := os.ReadDir(filepath.Join(dir, scansDir))
		if err != nil {
			return err
		}
		c.Scans = c.Scans[:0]
		for _, e := range entries {
			if !e.IsDir() || validUID(e.Name()) != nil {
				continue
			}
			info, err := readScanGroup(dir, e.Name())
			if err != nil || info.UID != e.Name() {
				continue // not a finished scan
			}
			c.Scans = append(c.Scans, info)
		}
		n = len(c.Scans)
		return nil
	})
	return n, err
}
