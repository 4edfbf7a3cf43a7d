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
		return nil, &CatalogError{Path: path, Err: err}
	}
	for i, s := range c.Scans {
		if s.UID == "" || (i > 0 && c.Scans[i-1].UID >= s.UID) {
			return nil, &CatalogError{Path: path, Err: fmt.Errorf("scan %d (%.80q) is unnamed or out of order", i, s.UID)}
		}
	}
	return &c, nil
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
		return writeJSON(filepath.Join(dir, catalogFile), c)
	})
	return kept, dropped, err
}
