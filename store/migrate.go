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

// Migration from format 1. A format-1 store kept its catalog, findings and
// candidates as one JSON document each, which readers parsed whole (3.6 s
// and 1 GB for 200,000 scans). Readers still read them; the first writer to
// open the store (ingest, ingest --repair) rewrites them as jsonl tables
// under the store lock and sets the root's format_version to 2.0, so a
// voxmine that knows only format 1 refuses the store rather than find it
// empty. Each step is atomic and the steps go in an order that a crash
// anywhere leaves a store that reads the same and migrates again:
//
//  1. catalog.jsonl from catalog.json and catalog.log, then those removed;
//  2. findings.jsonl and candidates.jsonl, then the JSON documents removed;
//  3. the root's format_version.
//
// Readers take catalog.jsonl over catalog.json whenever both exist.

// needsMigration reports whether the store at dir has format-1 files.
func needsMigration(dir string) bool {
	for _, name := range []string{legacyCatalogFile, legacyFindingsFile, legacyCandidatesFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	root, err := readRoot(dir)
	return err == nil && major(root.Format) != major(FormatVersion)
}

// Migrate brings a format-1 store to the current format; it does nothing
// to a current one. NewWriter calls it.
func Migrate(dir string) error {
	if !needsMigration(dir) {
		return nil
	}
	return withLock(dir, func() error { return migrateLocked(dir) })
}

func migrateLocked(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, legacyCatalogFile)); err == nil {
		if _, err := os.Stat(filepath.Join(dir, catalogFile)); errors.Is(err, fs.ErrNotExist) {
			if err := migrateCatalog(dir); err != nil {
				return fmt.Errorf("store %s: migrate the catalog: %w", dir, err)
			}
		}
		// Else an earlier migration wrote the table and stopped short of
		// removing the document, which the table holds.
		if err := os.Remove(filepath.Join(dir, legacyCatalogFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	_, ferr := os.Stat(filepath.Join(dir, legacyFindingsFile))
	_, cerr := os.Stat(filepath.Join(dir, legacyCandidatesFile))
	if ferr == nil || cerr == nil {
		f, err := readLegacyFindings(dir, true)
		if err == nil {
			err = writeFindings(dir, f)
		}
		if err != nil {
			return fmt.Errorf("store %s: migrate the findings: %w", dir, err)
		}
	}
	if err := setRootFormat(dir); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// migrateCatalog writes catalog.jsonl from catalog.json and the journal,
// with each record's stored size measured, and removes the journal.
func migrateCatalog(dir string) error {
	c, err := openCatalog(dir)
	if err != nil {
		return err
	}
	defer c.close()
	scans, err := c.scans()
	if err != nil {
		return err
	}
	for i := range scans {
		measure(dir, &scans[i])
	}
	sort.Slice(scans, func(i, j int) bool { return scans[i].UID < scans[j].UID })
	if err := writeScans(dir, scans); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// setRootFormat writes FormatVersion into the root group's attributes,
// keeping everything else.
func setRootFormat(dir string) error {
	path := filepath.Join(dir, "zarr.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	attrs, _ := g["attributes"].(map[string]any)
	vm, _ := attrs["voxmine"].(map[string]any)
	if vm == nil {
		return fmt.Errorf("%s: no attributes.voxmine", path)
	}
	if vm["format_version"] == FormatVersion {
		return nil
	}
	vm["format_version"] = FormatVersion
	return writeJSON(path, g)
}
