package store

import (
	"bytes"
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
	journalFile    = "catalog.log"
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

// readCatalog reads the catalog: the snapshot catalog.json, then the
// records appended to catalog.log since it was written.
func readCatalog(dir string) (*Catalog, error) {
	c, err := readSnapshot(dir)
	if err != nil {
		return nil, err
	}
	if _, err := replayJournal(dir, c); err != nil {
		return nil, err
	}
	return c, nil
}

func readSnapshot(dir string) (*Catalog, error) {
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
		return nil, &CatalogError{Path: path, Err: err}
	}
	for i, s := range c.Scans {
		if s.UID == "" || (i > 0 && c.Scans[i-1].UID >= s.UID) {
			return nil, &CatalogError{Path: path, Err: fmt.Errorf("scan %d (%.80q) is unnamed or out of order", i, s.UID)}
		}
	}
	return &c, nil
}

// The journal. Writing the whole catalog for every scan stored made
// ingesting N scans cost O(N²): 20 ms a scan at 200 scans, 120 ms at
// 2,700, and the catalog alone would dominate at NLST's 200,000. So a
// stored scan appends its record to catalog.log, one JSON object a line
// ({"put": record}), under the store lock and fsynced; readers apply the
// journal to the snapshot in order, the last record of a uid winning. When
// the journal outgrows a quarter of the snapshot (and 256 KiB), the
// writer folds it into a new snapshot and starts it afresh, so a scan's
// share of that cost stays constant whatever the store's size. A crash
// mid-append leaves a last line without its newline, which readers pass
// over; a crash between writing the snapshot and emptying the journal
// leaves records that the snapshot already holds, which replay the same.
type journalRecord struct {
	Put *ScanInfo `json:"put,omitempty"`
}

// replayJournal applies catalog.log to c and returns how many records it
// held.
func replayJournal(dir string, c *Catalog) (int, error) {
	path := filepath.Join(dir, journalFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
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
		var r journalRecord
		if err := json.Unmarshal(rec, &r); err != nil || r.Put == nil || validUID(r.Put.UID) != nil {
			if err == nil {
				err = errors.New("not a catalog record")
			}
			return n, &CatalogError{Path: fmt.Sprintf("%s:%d", path, line), Err: err}
		}
		c.upsert(*r.Put)
		n++
	}
	return n, nil
}

// appendCatalog records info in the journal under the store lock and
// folds the journal into the snapshot when it has grown large.
func appendCatalog(dir string, info ScanInfo) error {
	return withLock(dir, func() error {
		line, err := json.Marshal(journalRecord{Put: &info})
		if err != nil {
			return err
		}
		// A snapshot exists from the first scan on, so that a reader that
		// knows only catalog.json finds one (with the scans of the last fold).
		snapshot := filepath.Join(dir, catalogFile)
		if _, err := os.Stat(snapshot); errors.Is(err, fs.ErrNotExist) {
			if err := writeJSON(snapshot, &Catalog{Format: FormatVersion, Scans: []ScanInfo{}}); err != nil {
				return err
			}
		}
		path := filepath.Join(dir, journalFile)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err == nil && st.Size() > 0 {
			err = endLine(f, path, st.Size())
		}
		if err == nil {
			_, err = f.Write(append(line, '\n'))
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return compactIfLarge(dir, st.Size()+int64(len(line))+1)
	})
}

// endLine makes sure the journal ends in a newline before a record is
// appended: a record cut by a crash is left whole on its own line, which
// replay then reports rather than joining it to the next.
func endLine(f *os.File, path string, size int64) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, size-1); err != nil {
		return err
	}
	if last[0] != '\n' {
		_, err = f.Write([]byte("\n"))
	}
	return err
}

// compactIfLarge folds the journal into the snapshot when it holds more
// than 256 KiB (some 500 records) and more than a quarter of the
// snapshot's bytes. The store lock is held.
func compactIfLarge(dir string, journalBytes int64) error {
	snap, err := os.Stat(filepath.Join(dir, catalogFile))
	snapBytes := int64(0)
	if err == nil {
		snapBytes = snap.Size()
	}
	if journalBytes < 256<<10 || journalBytes*4 < snapBytes {
		return nil
	}
	return compactLocked(dir)
}

// compactLocked writes the catalog as a new snapshot and empties the
// journal. The store lock is held.
func compactLocked(dir string) error {
	c, err := readCatalog(dir)
	if err != nil {
		return err
	}
	c.Format = FormatVersion
	if c.Scans == nil {
		c.Scans = []ScanInfo{}
	}
	if err := writeJSON(filepath.Join(dir, catalogFile), c); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// Compact folds the catalog's journal into catalog.json, so that the
// snapshot alone lists every scan (for readers that do not replay the
// journal). Ingest does it when the journal grows large; Rebuild too.
func Compact(dir string) error {
	return withLock(dir, func() error { return compactLocked(dir) })
}

// CatalogError is a catalog that cannot be read: truncated by a full disk,
// emptied, edited by hand. The scan folders hold everything it lists, so
// Rebuild (ingest --repair) makes it anew; the message says so.
type CatalogError struct {
	Path string
	Err  error
}

func (e *CatalogError) Error() string {
	return e.Path + ": unreadable catalog (" + e.Err.Error() + "); rebuild it from the scan folders with: ingest --repair --out " + filepath.Dir(e.Path)
}

func (e *CatalogError) Unwrap() error { return e.Err }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
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
// Rebuild writes the catalog anew from the scan groups on disk. It repairs
// a catalog that a crash between a scan's rename and its catalog update
// left behind, and is what `ingest --repair` runs. It returns how many
// scans the catalog now lists and the uids it dropped (catalogued, but
// with no whole scan folder left).
func Rebuild(dir string) (kept int, dropped []string, err error) {
	if _, err := readRoot(dir); err != nil {
		return 0, nil, err
	}
	err = withLock(dir, func() error {
		// The old catalog only tells which uids were dropped: a catalog
		// that cannot be read (the reason to repair) is rebuilt all the same.
		c, err := readCatalog(dir)
		if err != nil {
			c = &Catalog{}
		}
		entries, err := os.ReadDir(filepath.Join(dir, scansDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		before := map[string]bool{}
		for _, s := range c.Scans {
			before[s.UID] = true
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
			delete(before, info.UID)
		}
		for uid := range before {
			dropped = append(dropped, uid)
		}
		sort.Strings(dropped)
		kept = len(c.Scans)
		sort.Slice(c.Scans, func(i, j int) bool { return c.Scans[i].UID < c.Scans[j].UID })
		c.Format = FormatVersion
		if err := writeJSON(filepath.Join(dir, catalogFile), c); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(dir, journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	return kept, dropped, err
}
