package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"voxmine/internal/atomicfile"
	"voxmine/internal/clip"
)

// ToolVersion is written into every store and scan voxmine creates.
const ToolVersion = "voxmine 0.1.0"

// RootAttrs is attributes.voxmine of the store's root group.
type RootAttrs struct {
	Format  string    `json:"format_version"`
	UUID    string    `json:"store_uuid"`
	Created time.Time `json:"created"`
	Tool    string    `json:"tool_version"`
}

// Store is an open voxmine store. It is safe for use by many goroutines.
// Close closes the volumes still open; after it, OpenVolume and the
// findings return ErrClosed.
type Store struct {
	dir    string
	root   RootAttrs
	cat    *catalog
	cache  *chunkCache
	volIDs atomic.Uint64

	mu     sync.Mutex // guards open and closed
	open   map[*Volume]struct{}
	closed bool

	findOnce sync.Once
	findings *Findings
	findErr  error
	candOnce sync.Once
	withCand *Findings
	candErr  error

	closeCatalog sync.Once
	tables       []*findingsTables // OpenFindings's, closed with the store
}

// Options tune an opened store.
type Options struct {
	// CacheBytes bounds the decoded chunks kept in memory; 0 means
	// DefaultCacheBytes.
	CacheBytes int
}

// Init creates an empty store at dir, or does nothing if one is there.
// Several processes may call it at once: exactly one root is created.
func Init(dir string) error {
	if !littleEndianHost {
		return ErrBigEndian
	}
	if err := os.MkdirAll(filepath.Join(dir, scansDir), 0o755); err != nil {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	path := filepath.Join(dir, "zarr.json")
	if _, err := os.Stat(path); err == nil {
		_, err := readRoot(dir)
		return err
	}
	attrs := RootAttrs{Format: FormatVersion, UUID: uuid.NewString(), Created: time.Now().UTC(), Tool: ToolVersion}
	b, err := json.MarshalIndent(groupMeta{ZarrFormat: 3, NodeType: "group",
		Attributes: mustJSON(map[string]any{"voxmine": attrs})}, "", " ")
	if err != nil {
		return err
	}
	// Write a temporary file and hard-link it into place: link fails if
	// another process won the race, and then its root stands.
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	defer f.Abort()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store %s: %w", dir, err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return err
	}
	g := groupMeta{ZarrFormat: 3, NodeType: "group"}
	sp := filepath.Join(dir, scansDir, "zarr.json")
	if _, err := os.Stat(sp); err != nil {
		return writeJSON(sp, g)
	}
	return nil
}

func readRoot(dir string) (RootAttrs, error) {
	path := filepath.Join(dir, "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(dir); serr != nil {
				return RootAttrs{}, fmt.Errorf("store %s does not exist: %w", dir, serr)
			}
			return RootAttrs{}, fmt.Errorf("%s: no zarr.json: %w", dir, ErrNotStore)
		}
		return RootAttrs{}, err
	}
	var g struct {
		ZarrFormat int    `json:"zarr_format"`
		NodeType   string `json:"node_type"`
		Attributes struct {
			Voxmine *RootAttrs `json:"voxmine"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return RootAttrs{}, fmt.Errorf("%s: %w", path, err)
	}
	if g.ZarrFormat != 3 || g.NodeType != "group" {
		return RootAttrs{}, fmt.Errorf("%s: not a Zarr v3 group (zarr_format %d, node_type %q): %w", path, g.ZarrFormat, g.NodeType, ErrNotStore)
	}
	if g.Attributes.Voxmine == nil {
		return RootAttrs{}, fmt.Errorf("%s: a Zarr group without attributes.voxmine: %w", path, ErrNotStore)
	}
	a := *g.Attributes.Voxmine
	if !readsMajor(major(a.Format)) {
		return RootAttrs{}, fmt.Errorf("%s: store format %s, this voxmine reads 1.x and %s", path, a.Format, FormatVersion)
	}
	return a, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// Open opens the store at dir for reading. It reads the root metadata, the
// catalog's journal and its snapshot's header, nothing per scan: records
// are read when asked for (Lookup, by binary search), volumes mapped when
// OpenVolume asks. So opening costs the same at any store size.
func Open(dir string, opts ...Options) (*Store, error) {
	if !littleEndianHost {
		return nil, ErrBigEndian
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	root, err := readRoot(dir)
	if err != nil {
		return nil, err
	}
	cat, err := openCatalog(dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, root: root, cat: cat, cache: newChunkCache(o.CacheBytes), open: map[*Volume]struct{}{}}, nil
}

// Close closes every volume still open and makes further reads fail with
// ErrClosed. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	vols := make([]*Volume, 0, len(s.open))
	for v := range s.open {
		vols = append(vols, v)
	}
	s.mu.Unlock()
	var err error
	for _, v := range vols {
		if cerr := v.Close(); err == nil {
			err = cerr
		}
	}
	s.closeCatalog.Do(s.cat.close)
	s.mu.Lock()
	for _, t := range s.tables {
		t.close()
	}
	s.tables = nil
	s.mu.Unlock()
	return err
}

// track records an opened volume so that Close can close it.
func (s *Store) track(v *Volume) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("store %s: %w", s.dir, ErrClosed)
	}
	s.open[v] = struct{}{}
	return nil
}

func (s *Store) untrack(v *Volume) {
	s.mu.Lock()
	delete(s.open, v)
	s.mu.Unlock()
}

// alive returns ErrClosed after Close.
func (s *Store) alive() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("store %s: %w", s.dir, ErrClosed)
	}
	return nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// UUID returns the store's identity, fixed at creation.
func (s *Store) UUID() string { return s.root.UUID }

// Root returns the root group's voxmine attributes.
func (s *Store) Root() RootAttrs { return s.root }

// Scans returns every scan's record, sorted by series uid. It reads the
// whole catalog: at 200,000 scans, a second or two and 200 MB. Runs that
// want some scans use Lookup, and runs over all of them UIDs.
func (s *Store) Scans() ([]ScanInfo, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.cat.scans()
}

// UIDs returns every scan's series uid, sorted, reading no record.
func (s *Store) UIDs() ([]string, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.cat.uids()
}

// Each calls fn with every scan's record in uid order, one at a time, so
// that a pass over a store of any size holds one record. An error from fn
// stops it.
func (s *Store) Each(fn func(ScanInfo) error) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.cat.walk(func(uid string, raw []byte) error {
		info, err := decodeInfo(uid, raw)
		if err != nil {
			return s.cat.recordError(s.cat.fileOf(uid), uid, err)
		}
		return fn(info)
	})
}

// Lookup returns the catalog's record of uid, found by binary search; ok
// is false when the store holds no such scan. (Scan, the type, is what a
// Writer stores.)
func (s *Store) Lookup(uid string) (info ScanInfo, ok bool, err error) {
	if err := s.alive(); err != nil {
		return ScanInfo{}, false, err
	}
	return s.cat.lookup(uid)
}

// Summary sums up the store's scans (counts, flags, patients, bytes) from
// the catalog's header, at the same cost at any store size.
func (s *Store) Summary() (Summary, error) {
	if err := s.alive(); err != nil {
		return Summary{}, err
	}
	return s.cat.summary()
}

// OpenFindings returns the store's findings (with their candidates when
// asked) to be read series by series: Of finds each in the tables when
// asked, and nothing is read before. It suits a pass over a large store,
// whose findings need not all be in memory at once. The tables stay open
// until the store is closed.
func (s *Store) OpenFindings(withCandidates bool) (*Findings, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	ft, err := openFindings(s.dir, withCandidates)
	if err != nil {
		return nil, err
	}
	if ft.legacy != nil { // a format-1 store: read whole
		return ft.legacy, nil
	}
	s.mu.Lock()
	s.tables = append(s.tables, ft)
	s.mu.Unlock()
	f := ft.empty()
	f.tables = ft
	return f, nil
}

// FindingsOf returns the findings of the series uids name (with their
// candidates when asked), found by binary search in the findings tables,
// with the counts and sources of the whole store. With no uids it returns
// the counts and sources alone.
func (s *Store) FindingsOf(uids []string, withCandidates bool) (*Findings, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	ft, err := openFindings(s.dir, withCandidates)
	if err != nil {
		return nil, err
	}
	defer ft.close()
	return ft.of(uids)
}

// Findings returns the dataset's annotations and excluded findings by
// series (not the candidates: see FindingsWithCandidates). It is read on
// first use.
func (s *Store) Findings() (*Findings, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	s.findOnce.Do(func() { s.findings, s.findErr = readFindings(s.dir, false) })
	return s.findings, s.findErr
}

// FindingsWithCandidates is Findings with the candidates too, which are
// kept in a file of their own: for LUNA16's candidates_V2.csv it is a
// second's more reading and some 100 MB of memory.
func (s *Store) FindingsWithCandidates() (*Findings, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	s.candOnce.Do(func() { s.withCand, s.candErr = readFindings(s.dir, true) })
	return s.withCand, s.candErr
}

// ScanDir returns the directory of a scan's group.
func (s *Store) ScanDir(uid string) string { return scanDir(s.dir, uid) }

func scanDir(dir, uid string) string { return filepath.Join(dir, scansDir, uid) }

// validUID rejects series uids that could escape the scans directory.
func validUID(uid string) error {
	if uid == "" || uid == "." || uid == ".." || strings.ContainsAny(uid, `/\`) || strings.HasPrefix(uid, ".") {
		return fmt.Errorf("series uid %s cannot name a scan directory", clip.Q(uid))
	}
	return nil
}

// Usage is what a store's volumes take on disk against their raw size.
type Usage struct {
	Scans       int
	StoredBytes int64 // shard files
	RawBytes    int64 // int16 HU plus uint8 labels, uncompressed
}

// Ratio returns raw over stored size.
func (u Usage) Ratio() float64 {
	if u.StoredBytes == 0 {
		return 0
	}
	return float64(u.RawBytes) / float64(u.StoredBytes)
}

// DiskUsage sums the shard sizes of the catalog's scans, from the
// catalog's summary; in a format-1 store, whose records do not hold their
// size, a stat per shard.
func (s *Store) DiskUsage() (Usage, error) {
	if s.cat.snap != nil {
		sum, err := s.cat.summary()
		return Usage{Scans: sum.Scans, StoredBytes: sum.StoredBytes, RawBytes: sum.RawBytes}, err
	}
	var u Usage
	scans, err := s.cat.scans()
	if err != nil {
		return u, err
	}
	for _, sc := range scans {
		u.Scans++
		n := int64(sc.Grid.Voxels())
		u.RawBytes += 2 * n
		arrays := []string{huArray}
		if sc.HasLabels {
			u.RawBytes += n
			arrays = append(arrays, labelArray)
		}
		for _, a := range arrays {
			st, err := os.Stat(filepath.Join(scanDir(s.dir, sc.UID), a, shardKey))
			if err != nil {
				return u, err
			}
			u.StoredBytes += st.Size()
		}
	}
	return u, nil
}
