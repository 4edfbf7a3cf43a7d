package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

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
		before := map[string]bool{}
		if c, err := openCatalog(dir); err == nil {
			uids, _ := c.uids()
			for _, u := range uids {
				before[u] = true
			}
			c.close()
		}
		entries, err := os.ReadDir(filepath.Join(dir, scansDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		var scans []ScanInfo
		for _, e := range entries { // ReadDir sorts by name: uid order
			if !e.IsDir() || validUID(e.Name()) != nil {
				continue
			}
			info, err := readScanGroup(dir, e.Name())
			if err != nil || info.UID != e.Name() {
				continue // not a finished scan
			}
			measure(dir, &info)
			scans = append(scans, info)
			delete(before, info.UID)
		}
		for uid := range before {
			dropped = append(dropped, uid)
		}
		sort.Strings(dropped)
		kept = len(scans)
		if err := writeScans(dir, scans); err != nil {
			return err
		}
		for _, f := range []string{journalFile, legacyCatalogFile} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return migrateLocked(dir)
	})
	return kept, dropped, err
}

// writeScans writes scans, sorted by uid, as the snapshot.
func writeScans(dir string, scans []ScanInfo) error {
	var sum Summary
	for _, s := range scans {
		sum.add(s, 1)
	}
	return writeSnapshot(dir, sum, func(fn func(string, []byte) error) error {
		for i := range scans {
			b, err := json.Marshal(&scans[i])
			if err != nil {
				return err
			}
			if err := fn(scans[i].UID, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// measure sets info.StoredBytes from its shard files, for records written
// before records held it.
func measure(dir string, info *ScanInfo) {
	if info.StoredBytes > 0 {
		return
	}
	arrays := []string{huArray}
	if info.HasLabels {
		arrays = append(arrays, labelArray)
	}
	for _, a := range arrays {
		if st, err := os.Stat(filepath.Join(scanDir(dir, info.UID), a, shardKey)); err == nil {
			info.StoredBytes += st.Size()
		}
	}
}
