package ingest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"voxmine/ingest/dicom"
	"voxmine/ingest/lidc"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/nifti"
	"voxmine/ingest/source"
	"voxmine/ingest/totalseg"
)

// DefaultFormats are the formats ingest reads when Options.Formats is
// empty, in the order they are offered the files.
func DefaultFormats() []source.Format {
	// DICOM comes last: it opens every file left, and MetaImage's .raw and
	// NIfTI's files are taken by then.
	return []source.Format{metaimage.Format{}, nifti.Format{}, dicom.Format{}}
}

// Discovered is one scan to ingest: what its format found, the format itself,
// and the mask that goes with it, if any.
type Discovered struct {
	source.Scan
	format source.Format
	// Mask is the scan's lung mask from the mask folder (same uid), or nil.
	Mask       *source.Scan
	maskFormat source.Format
	// nearMask is a mask file that nearly matches the scan's uid when none
	// matches it (a suffix added, the last digits off), to name in messages.
	nearMask string
}

// Discovery is what Discover found.
type Discovery struct {
	Scans []Discovered // sorted by UID
	// Masks counts scans that have a mask.
	Masks int
	// Duplicates lists the files of scans whose uid was already seen.
	Duplicates []string
	// Skipped lists files and series a format recognised but cannot use.
	Skipped []source.Skipped
	// Reads are the LIDC XML read messages found among the files no
	// format took.
	Reads []*lidc.Read
	// Unread are the files no format took and that are no LIDC read
	// (notes, spreadsheets, files of no format voxmine reads).
	Unread []string
}

// Discover finds the scans below the source folders with the given
// formats, leaving out mask folders and hidden folders, and pairs each
// with the mask of the same uid found in maskDir (when not empty). A mask
// folder inside a source folder (LUNA16's seg-lungs-LUNA16 sits beside the
// subsets) is recognised by name or by being maskDir itself. Every file is
// offered to the formats in order; a file a format uses is not offered to
// the next.
func Discover(ctx context.Context, srcs []string, maskDir string, formats []source.Format) (*Discovery, error) {
	if len(formats) == 0 {
		formats = DefaultFormats()
	}
	d := &Discovery{}
	absMask := ""
	if maskDir != "" {
		absMask, _ = filepath.Abs(maskDir)
	}
	var files []string
	for _, src := range srcs {
		found, skipped, err := walkFiles(ctx, src, func(path, name string) bool {
			abs, _ := filepath.Abs(path)
			return isMaskDir(name) || abs == absMask
		})
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
		d.Skipped = append(d.Skipped, skipped...)
	}
	masks, files := totalseg.Masks(files)
	for _, p := range masks {
		d.Skipped = append(d.Skipped, source.Skipped{Path: p, Reason: "a TotalSegmentator mask, not a CT (give its folder, named by the scan's uid, to --masks)"})
	}
	scans, skipped, rest, err := find(ctx, files, formats)
	if err != nil {
		return nil, err
	}
	d.Skipped = append(d.Skipped, skipped...)
	reads, bad := findReads(rest)
	d.Reads, d.Skipped = reads, append(d.Skipped, bad...)
	for _, p := range rest {
		if !strings.EqualFold(filepath.Ext(p), ".xml") && !strings.EqualFold(filepath.Ext(p), ".csv") {
			d.Unread = append(d.Unread, p)
		}
	}
	byUID := map[string]*Discovered{}
	for _, s := range scans {
		if _, dup := byUID[s.UID]; dup {
			d.Duplicates = append(d.Duplicates, s.Path())
			continue
		}
		byUID[s.UID] = &Discovered{Scan: s.Scan, format: s.format}
	}
	if maskDir != "" {
		maskFiles, skipped, err := walkFiles(ctx, maskDir, func(string, string) bool { return false })
		if err != nil {
			return nil, err
		}
		d.Skipped = append(d.Skipped, skipped...)
		// TotalSegmentator's folders first: their lobe files are NIfTI too.
		masks, _, _, err := find(ctx, maskFiles, append([]source.Format{totalseg.Format{}}, formats...))
		if err != nil {
			return nil, err
		}
		var unmatched []string // mask uids no scan has, sorted
		paths := map[string]string{}
		for _, m := range masks {
			if s, ok := byUID[m.UID]; ok && s.Mask == nil {
				s.Mask, s.maskFormat = &m.Scan, m.format
				d.Masks++
			} else if !ok {
				unmatched = append(unmatched, m.UID)
				paths[m.UID] = m.Path()
			}
		}
		sort.Strings(unmatched)
		for _, s := range byUID {
			if s.Mask == nil {
				if near := nearest(unmatched, s.UID); near != "" {
					s.nearMask = paths[near]
				}
			}
		}
	}
	for _, s := range byUID {
		d.Scans = append(d.Scans, *s)
	}
	sort.Slice(d.Scans, func(i, j int) bool { return d.Scans[i].UID < d.Scans[j].UID })
	return d, nil
}

type foundScan struct {
	source.Scan
	format source.Format
}

// find offers files (in walk order: sources in order, each lexically) to
// each format in turn, each taking what it uses.
func find(ctx context.Context, files []string, formats []source.Format) ([]foundScan, []source.Skipped, []string, error) {
	var scans []foundScan
	var skipped []source.Skipped
	for _, f := range formats {
		got, err := f.Find(ctx, files)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		for _, s := range got.Scans {
			scans = append(scans, foundScan{s, f})
		}
		skipped = append(skipped, got.Skipped...)
		used := map[string]bool{}
		for _, u := range got.Used {
			used[u] = true
		}
		files = slices.DeleteFunc(files, func(p string) bool { return used[p] })
	}
	return scans, skipped, files, nil
}

func isMaskDir(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "seg-lungs") || n == "masks" || n == "lung_masks"
}

// walkFiles lists the regular files under root (root itself when it is a
// file), in lexical order, leaving out names that start with a dot and the
// folders skip names. Symbolic links are followed, to files and to folders,
// root included: a dataset kept elsewhere and linked in is common (ln -s
// /data/luna16/subset0 .). A folder reached twice (a link back up, the
// same folder linked twice) is walked once; a dangling link is returned
// among the skipped, named with its target.
func walkFiles(ctx context.Context, root string, skip func(path, name string) bool) (files []string, skipped []source.Skipped, err error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("scanning %w", err)
	}
	if !fi.IsDir() {
		return []string{root}, nil, nil
	}
	visited := map[string]bool{} // folders walked, by their real path
	var walk func(dir string) error
	walk = func(dir string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("scanning %w", err)
		}
		if visited[real] {
			return nil
		}
		visited[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("scanning %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			path := filepath.Join(dir, name)
			mode := e.Type()
			if mode&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(path)
				st, err := os.Stat(path)
				if err != nil {
					skipped = append(skipped, source.Skipped{Path: path, Reason: fmt.Sprintf("a symbolic link to %s, which does not exist", target)})
					continue
				}
				mode = st.Mode().Type()
			}
			switch {
			case mode.IsDir():
				if skip(path, name) {
					continue
				}
				if err := walk(path); err != nil {
					return err
				}
			case mode.IsRegular():
				files = append(files, path)
			}
		}
		return nil
	}
	return files, skipped, walk(root)
}

// nearest returns the uid of sorted that nearly matches uid: they share
// all but the last three characters of the shorter, and differ in length
// by at most eight (a "_mask" suffix, a digit or two off). "" when none.
func nearest(sorted []string, uid string) string {
	i := sort.SearchStrings(sorted, uid)
	for _, j := range []int{i - 1, i, i + 1} {
		if j < 0 || j >= len(sorted) {
			continue
		}
		c := sorted[j]
		n := 0
		for n < len(c) && n < len(uid) && c[n] == uid[n] {
			n++
		}
		short := min(len(c), len(uid))
		if short >= 8 && n >= short-3 && max(len(c), len(uid))-short <= 8 {
			return c
		}
	}
	return ""
}
