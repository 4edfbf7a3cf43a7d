package ingest

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// ScanFile is a scan found on disk: its series uid (the file stem) and
// header path, and the mask that goes with it, if any.
type ScanFile struct {
	UID  string
	Path string
	Mask string
}

// Discovery is what Discover found.
type Discovery struct {
	Scans []ScanFile // sorted by UID
	// Masks counts scans that have a mask.
	Masks int
	// Duplicates lists header files whose uid was already seen.
	Duplicates []string
}

// Discover finds every .mhd and .mha under the source folders, keyed by
// file stem, leaving out files under a mask folder, and pairs each with
// the mask of the same stem in maskDir (when maskDir is not empty). A mask
// folder inside a source folder (LUNA16's seg-lungs-LUNA16 sits beside the
// subsets) is recognised by name or by being maskDir itself.
func Discover(srcs []string, maskDir string) (*Discovery, error) {
	d := &Discovery{}
	byUID := map[string]*ScanFile{}
	absMask := ""
	if maskDir != "" {
		absMask, _ = filepath.Abs(maskDir)
	}
	for _, src := range srcs {
		err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("scanning %s: %w", path, err)
			}
			if e.IsDir() {
				abs, _ := filepath.Abs(path)
				if path != src && (isMaskDir(e.Name()) || abs == absMask || strings.HasPrefix(e.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			ext := strings.ToLower(filepath.Ext(path))
			if ext != ".mhd" && ext != ".mha" {
				return nil
			}
			uid := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
			if _, dup := byUID[uid]; dup {
				d.Duplicates = append(d.Duplicates, path)
				return nil
			}
			byUID[uid] = &ScanFile{UID: uid, Path: path}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if maskDir != "" {
		err := filepath.WalkDir(maskDir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("scanning masks %s: %w", path, err)
			}
			ext := strings.ToLower(filepath.Ext(path))
			if e.IsDir() || (ext != ".mhd" && ext != ".mha") {
				return nil
			}
			uid := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
			if s, ok := byUID[uid]; ok && s.Mask == "" {
				s.Mask = path
				d.Masks++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, s := range byUID {
		d.Scans = append(d.Scans, *s)
	}
	sort.Slice(d.Scans, func(i, j int) bool { return d.Scans[i].UID < d.Scans[j].UID })
	return d, nil
}

func isMaskDir(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "seg-lungs") || n == "masks" || n == "lung_masks"
}
