package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"voxmine/internal/atomicfile"
	"voxmine/store/jsonl"
)

// Writing the catalog: a stored scan's record appended to the journal,
// and the journal folded into a new snapshot.

// appendCatalog records info in the journal under the store lock and
// folds the journal into the snapshot when it has grown large.
func appendCatalog(dir string, info ScanInfo) error {
	return withLock(dir, func() error {
		line, err := json.Marshal(journalRecord{Put: &info})
		if err != nil {
			return err
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
// than 256 KiB (some 250 records) and more than 1/64 of the snapshot's
// bytes, or when there is no snapshot yet (the first scan writes one, so
// that a reader always finds a catalog.jsonl). The store lock is held.
func compactIfLarge(dir string, journalBytes int64) error {
	snap, err := os.Stat(filepath.Join(dir, catalogFile))
	if err == nil && (journalBytes < 256<<10 || journalBytes*64 < snap.Size()) {
		return nil
	}
	return compactLocked(dir)
}

// compactLocked writes the catalog as a new snapshot and empties the
// journal. The store lock is held.
func compactLocked(dir string) error {
	c, err := openCatalog(dir)
	if err != nil {
		return err
	}
	defer c.close()
	if c.snap == nil && c.legacy != nil {
		return migrateLocked(dir)
	}
	sum, err := c.summary()
	if err != nil {
		return err
	}
	if err := writeSnapshot(dir, sum, c.walk); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// writeSnapshot writes catalog.jsonl: the header with sum, then the
// records walk yields.
func writeSnapshot(dir string, sum Summary, walk func(func(uid string, raw []byte) error) error) error {
	header, err := json.Marshal(catalogHeader{Table: "catalog", Format: FormatVersion, Summary: sum})
	if err != nil {
		return err
	}
	return jsonl.Write(filepath.Join(dir, catalogFile), header, func(yield func([]byte) error) error {
		return walk(func(_ string, raw []byte) error { return yield(raw) })
	})
}

// Compact folds the catalog's journal into catalog.jsonl, so that the
// snapshot alone lists every scan (for readers that do not replay the
// journal). Ingest does it when the journal grows large; Rebuild too.
func Compact(dir string) error {
	return withLock(dir, func() error { return compactLocked(dir) })
}
