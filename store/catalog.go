package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"voxmine/internal/atomicfile"
	"voxmine/store/jsonl"
)

// Store-level file names.
const (
	catalogFile    = "catalog.jsonl"    // the snapshot: a jsonl table of scan records
	journalFile    = "catalog.log"      // records stored since the snapshot
	findingsFile   = "findings.jsonl"   // annotations and excluded findings by series
	candidatesFile = "candidates.jsonl" // candidates by series
	lockName       = ".lock"
	scansDir       = "scans"

	// Format 1 kept each as one JSON document; a writer migrates them.
	legacyCatalogFile    = "catalog.json"
	legacyFindingsFile   = "findings.json"
	legacyCandidatesFile = "candidates.json"
)

// The catalog lists every scan of a store: voxmine's index of the dataset.
// It is a snapshot, catalog.jsonl, and a journal, catalog.log.
//
// The snapshot is a jsonl table: a header line whose summary counts the
// scans, their labels, flags, patients and bytes (what `mine info` says),
// then one scan record a line, sorted by series uid. So a run that mines
// 100 scans of 200,000 finds its records by binary search, a whole-store
// run streams them, and `mine info` reads the header: each costs what it
// uses, not the store's size.
//
// Writing the snapshot for every scan stored made ingesting N scans cost
// O(N²) (20 ms a scan at 200 scans, 120 ms at 2,700). So a stored scan
// appends its record to catalog.log, one line ({"put": record}) under the
// store lock and fsynced, and readers apply the journal to the snapshot in
// order, the last record of a uid winning. When the journal outgrows
// 1/64 of the snapshot (and 256 KiB) the writer folds it into a new
// snapshot: a merge that copies the snapshot's lines as they are, so a
// scan's share of that cost stays constant whatever the store's size, and
// the journal a reader replays stays small.
//
// A crash mid-append leaves a last line without its newline, which readers
// pass over (it was never acknowledged). A crash between writing the
// snapshot and removing the journal leaves records the snapshot already
// holds: they replay to the same catalog and the same summary.
type catalog struct {
	dir     string
	snap    *jsonl.Table // nil when there is none
	head    catalogHeader
	legacy  []ScanInfo     // a format-1 catalog.json, sorted by uid
	journal []journalEntry // catalog.log's records, in order
	latest  map[string]int // uid → its last entry in journal
}

// catalogHeader is the snapshot's first line.
type catalogHeader struct {
	Table   string  `json:"voxmine"` // "catalog"
	Format  string  `json:"format"`
	Summary Summary `json:"summary"`
}

type journalEntry struct {
	uid string
	raw []byte // the record, a ScanInfo as JSON
}

type journalRecord struct {
	Put *ScanInfo `json:"put,omitempty"`
}

// openCatalog opens the catalog of the store at dir. It reads the journal
// first and the snapshot second: a writer folds the journal into a new
// snapshot before it removes the journal, so in this order a reader never
// misses a record, whenever the fold happens.
func openCatalog(dir string) (*catalog, error) { return openCatalogAround(dir, nil) }

// openCatalogAround is openCatalog with between, when not nil, called
// between its two reads (a test puts a fold there).
func openCatalogAround(dir string, between func()) (*catalog, error) {
	c := &catalog{dir: dir, latest: map[string]int{}}
	if err := c.readJournal(filepath.Join(dir, journalFile)); err != nil {
		return nil, err
	}
	if between != nil {
		between()
	}
	if err := c.openSnapshot(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// openSnapshot opens catalog.jsonl, or reads a format-1 catalog.json
// when there is none.
func (c *catalog) openSnapshot(dir string) error {
	path := filepath.Join(dir, catalogFile)
	t, err := jsonl.Open(path)
	switch {
	case err == nil:
		c.snap = t
		if err := json.Unmarshal(t.Header(), &c.head); err != nil || c.head.Table != "catalog" {
			t.Close()
			if err == nil {
				err = errors.New(`the header is not a voxmine catalog's ("voxmine": "catalog")`)
			}
			return &CatalogError{Path: path + ":1", Err: err}
		}
	case errors.Is(err, fs.ErrNotExist):
		if c.legacy, err = readLegacyCatalog(dir); err != nil {
			return err
		}
		if c.legacy == nil {
			// Neither file: an empty store, or a migration that wrote the
			// table and removed the document between the two looks.
			if _, err := os.Stat(path); err == nil {
				return c.openSnapshot(dir)
			}
		}
	default:
		return catalogError(path, err)
	}
	return nil
}

// catalogError makes err, from reading the catalog file at path, a
// CatalogError that names the file (and line) once.
func catalogError(path string, err error) error {
	var te *jsonl.Error
	if errors.As(err, &te) {
		p := te.Path
		if te.Line > 0 {
			p = fmt.Sprintf("%s:%d", p, te.Line)
		}
		return &CatalogError{Path: p, Err: te.Err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &CatalogError{Path: pe.Path, Err: pe.Err}
	}
	return &CatalogError{Path: path, Err: err}
}

func (c *catalog) close() {
	if c != nil && c.snap != nil {
		c.snap.Close()
	}
}

// readLegacyCatalog reads a format-1 catalog.json, one JSON document.
func readLegacyCatalog(dir string) ([]ScanInfo, error) {
	path := filepath.Join(dir, legacyCatalogFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Scans []ScanInfo `json:"scans"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, &CatalogError{Path: path, Err: err}
	}
	for i, s := range doc.Scans {
		if s.UID == "" || (i > 0 && doc.Scans[i-1].UID >= s.UID) {
			return nil, &CatalogError{Path: path, Err: fmt.Errorf("scan %d (%.80q) is unnamed or out of order", i, s.UID)}
		}
	}
	return doc.Scans, nil
}

// readJournal reads catalog.log's records. It finds each record's uid
// without decoding the rest: a record is decoded when it is asked for.
func (c *catalog) readJournal(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for line := 1; len(b) > 0; line++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // a record cut by a crash: it was never acknowledged
		}
		rec := b[:i]
		b = b[i+1:]
		if len(bytes.TrimSpace(rec)) == 0 {
			continue
		}
		uid, raw, err := journalPut(rec)
		if err != nil {
			return &CatalogError{Path: fmt.Sprintf("%s:%d", path, line), Err: err}
		}
		c.latest[uid] = len(c.journal)
		c.journal = append(c.journal, journalEntry{uid, raw})
	}
	return nil
}

// journalPut returns the uid and record of a journal line.
func journalPut(line []byte) (string, []byte, error) {
	const prefix = `{"put":`
	if bytes.HasPrefix(line, []byte(prefix)) && bytes.HasSuffix(line, []byte("}")) && json.Valid(line) {
		raw := line[len(prefix) : len(line)-1]
		if uid, err := jsonl.Key(raw); err == nil && validUID(uid) == nil {
			return uid, raw, nil
		}
	}
	// Anything else that is still a record (spaces, other order).
	var r journalRecord
	err := json.Unmarshal(line, &r)
	if err == nil && (r.Put == nil || validUID(r.Put.UID) != nil) {
		err = errors.New("not a catalog record")
	}
	if err != nil {
		return "", nil, err
	}
	raw, err := json.Marshal(r.Put)
	return r.Put.UID, raw, err
}

// recordError is the CatalogError of uid's record in file (catalogFile or
// journalFile), which does not decode.
func (c *catalog) recordError(file, uid string, err error) error {
	return &CatalogError{Path: filepath.Join(c.dir, file), Err: fmt.Errorf("the record of %.80q: %w", uid, err)}
}

// fileOf names the file walk reads uid's record from: the journal when it
// holds one, else the snapshot.
func (c *catalog) fileOf(uid string) string {
	if _, ok := c.latest[uid]; ok {
		return journalFile
	}
	return catalogFile
}

// decodeInfo decodes the record of uid, which must give uid as its
// seriesuid: a table finds a record by the value of its first member,
// whatever that member's name.
func decodeInfo(uid string, raw []byte) (ScanInfo, error) {
	var info ScanInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, err
	}
	if info.UID != uid { // a record keyed by another member than its seriesuid
		return info, fmt.Errorf("its seriesuid is %.80q", info.UID)
	}
	return info, nil
}

// lookup returns uid's record: the journal's last, else the snapshot's.
func (c *catalog) lookup(uid string) (ScanInfo, bool, error) {
	if i, ok := c.latest[uid]; ok {
		info, err := decodeInfo(uid, c.journal[i].raw)
		if err != nil {
			return ScanInfo{}, false, c.recordError(journalFile, uid, err)
		}
		return info, true, nil
	}
	return c.lookupSnapshot(uid)
}

func (c *catalog) lookupSnapshot(uid string) (ScanInfo, bool, error) {
	if c.snap == nil {
		i := sort.Search(len(c.legacy), func(i int) bool { return c.legacy[i].UID >= uid })
		if i < len(c.legacy) && c.legacy[i].UID == uid {
			return c.legacy[i], true, nil
		}
		return ScanInfo{}, false, nil
	}
	line, err := c.snap.Find(uid)
	if err != nil {
		return ScanInfo{}, false, catalogError(c.snap.Path(), err)
	}
	if line == nil {
		return ScanInfo{}, false, nil
	}
	info, err := decodeInfo(uid, line)
	if err != nil {
		return ScanInfo{}, false, c.recordError(catalogFile, uid, err)
	}
	return info, true, nil
}

// walk calls fn with every scan's uid and record, in uid order, the
// journal's records in place of the snapshot's. The record is a ScanInfo
// as one line of JSON, valid during the call only. It holds one record at
// a time, whatever the store's size.
func (c *catalog) walk(fn func(uid string, raw []byte) error) error {
	pending := slices.Sorted(maps.Keys(c.latest)) // the journal's uids
	j := 0
	// journalBefore hands fn the journal's records of the uids before uid
	// (all of them that are left, when all).
	journalBefore := func(uid string, all bool) error {
		for ; j < len(pending) && (all || pending[j] < uid); j++ {
			if err := fn(pending[j], c.journal[c.latest[pending[j]]].raw); err != nil {
				return err
			}
		}
		return nil
	}
	visit := func(uid string, raw []byte) error {
		if err := journalBefore(uid, false); err != nil {
			return err
		}
		if j < len(pending) && pending[j] == uid { // the journal's record wins
			j++
			raw = c.journal[c.latest[uid]].raw
		}
		return fn(uid, raw)
	}
	var err error
	if c.snap != nil {
		err = c.snap.Scan(visit)
		if te := (*jsonl.Error)(nil); errors.As(err, &te) {
			err = catalogError(c.snap.Path(), err)
		}
	} else {
		for i := 0; i < len(c.legacy) && err == nil; i++ {
			var b []byte
			if b, err = json.Marshal(&c.legacy[i]); err == nil {
				err = visit(c.legacy[i].UID, b)
			}
		}
	}
	if err != nil {
		return err
	}
	return journalBefore("", true)
}

// scans decodes every record (O(store): for callers that want them all).
// A record that does not decode is a CatalogError, as a line that does
// not parse is.
func (c *catalog) scans() ([]ScanInfo, error) {
	var out []ScanInfo
	err := c.walk(func(uid string, raw []byte) error {
		info, err := decodeInfo(uid, raw)
		if err != nil {
			return c.recordError(c.fileOf(uid), uid, err)
		}
		out = append(out, info)
		return nil
	})
	return out, err
}

// uids lists every scan's uid in order, decoding no record.
func (c *catalog) uids() ([]string, error) {
	var out []string
	err := c.walk(func(uid string, _ []byte) error {
		out = append(out, uid)
		return nil
	})
	return out, err
}

// summary is the snapshot's summary with the journal's records applied.
// The journal is short (1/64 of the snapshot at most, save for a fold
// that failed), so this costs about the same at any store size.
func (c *catalog) summary() (Summary, error) {
	var s Summary
	if c.snap != nil {
		s = c.head.Summary.clone()
	} else {
		for _, info := range c.legacy {
			s.add(info, 1)
		}
	}
	seen := map[string]ScanInfo{}
	for _, e := range c.journal {
		info, err := decodeInfo(e.uid, e.raw)
		if err != nil {
			return s, c.recordError(journalFile, e.uid, err)
		}
		old, had := seen[e.uid]
		if !had {
			if old, had, err = c.lookupSnapshot(e.uid); err != nil {
				return s, err
			}
		}
		if had {
			s.add(old, -1)
		}
		s.add(info, 1)
		seen[e.uid] = info
	}
	return s, nil
}

// CatalogError is a catalog that cannot be read: truncated by a full disk,
// emptied, edited by hand. The scan folders hold everything it lists, so
// Rebuild (ingest --repair) makes it anew; the message says so.
type CatalogError struct {
	Path string
	Err  error
}

func (e *CatalogError) Error() string {
	dir := filepath.Dir(e.Path)
	return e.Path + ": unreadable catalog (" + e.Err.Error() + "); rebuild it from the scan folders with: ingest --repair --out " + dir
}

func (e *CatalogError) Unwrap() error { return e.Err }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}
