package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"voxmine/internal/clip"
)

// Problem is what Check found wrong with one stored scan.
type Problem struct {
	UID    string
	Path   string // the file missing or damaged
	Reason string
}

// Check looks at every catalogued scan's files — a stat each, nothing
// read — and reports the ones missing or too short to be whole (a shard
// shorter than its own index). An empty result means every file is there.
func (s *Store) Check() ([]Problem, error) {
	var out []Problem
	err := s.Each(func(sc ScanInfo) error {
		dir := scanDir(s.dir, sc.UID)
		g := sc.Grid
		n := chunksAlong(g.Shape[0]) * chunksAlong(g.Shape[1]) * chunksAlong(g.Shape[2])
		files := []struct {
			path string
			min  int64
		}{
			{filepath.Join(dir, "zarr.json"), 1},
			{filepath.Join(dir, huArray, "zarr.json"), 1},
			{filepath.Join(dir, huArray, shardKey), int64(shardIndexSize(n))},
			{filepath.Join(dir, chunksArray, "zarr.json"), 1},
			{filepath.Join(dir, chunksArray, "c", "0", "0", "0", "0"), crcSize},
		}
		if sc.HasLabels {
			files = append(files,
				struct {
					path string
					min  int64
				}{filepath.Join(dir, labelArray, "zarr.json"), 1},
				struct {
					path string
					min  int64
				}{filepath.Join(dir, labelArray, shardKey), int64(shardIndexSize(n))})
		}
		for _, f := range files {
			st, err := os.Stat(f.path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				out = append(out, Problem{sc.UID, f.path, "missing"})
			case err != nil:
				out = append(out, Problem{sc.UID, f.path, err.Error()})
			case st.Size() < f.min:
				out = append(out, Problem{sc.UID, f.path, fmt.Sprintf("%d bytes, too short to be whole", st.Size())})
			}
			if len(out) > 0 && out[len(out)-1].UID == sc.UID && out[len(out)-1].Path == filepath.Join(dir, "zarr.json") {
				break // the whole scan folder is gone: one line says it
			}
		}
		return nil
	})
	return out, err
}

// CheckFolders reports the catalogued scans whose folder is gone: one read
// of the scans directory, not a stat per file, for stores too large for
// Check to be quick.
func (s *Store) CheckFolders() ([]Problem, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, scansDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		present[e.Name()] = true
	}
	var out []Problem
	err = s.cat.walk(func(uid string, _ []byte) error {
		if !present[uid] {
			out = append(out, Problem{uid, filepath.Join(scanDir(s.dir, uid), "zarr.json"), "missing"})
		}
		return nil
	})
	return out, err
}

// Resolve returns the uid of the one catalogued scan that uid names
// exactly or is a prefix of; it fails, listing some, when none or several
// match.
func (s *Store) Resolve(uid string) (string, error) {
	if _, ok, err := s.cat.lookup(uid); ok || err != nil {
		return uid, err
	}
	var matches []string
	err := s.cat.walk(func(u string, _ []byte) error {
		if strings.HasPrefix(u, uid) {
			matches = append(matches, u)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("store %s: scan %s: %w", s.dir, clip.Q(uid), ErrNoScan)
	}
	sort.Strings(matches)
	if len(matches) > 3 {
		matches = append(matches[:3], "…")
	}
	return "", fmt.Errorf("store %s: %s is the start of several scans (%s): give more of the uid", s.dir, clip.Q(uid), clip.String(strings.Join(matches, ", "), 400))
}
