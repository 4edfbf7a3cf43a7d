// Command scalestore builds a voxmine store of N scans cheaply, for the
// scale benchmark (bench/scale.sh): every scan of it is a symbolic link to
// one of the few real scans of a base store, under a uid of its own, with
// the base scan's record and findings. So a store of 200,000 scans costs
// 200,000 links and a catalog, not 11 TB, and reads like a real one:
// records, findings, summary, chunk indexes and voxels.
//
// Usage: go run ./bench/scalestore -base STORE -n N -out DIR
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"voxmine/store"
)

func main() {
	base := flag.String("base", "", "a store of a few real scans")
	n := flag.Int("n", 1000, "scans in the new store")
	out := flag.String("out", "", "the new store (must not exist)")
	stride := flag.Int("stride", 1, "take every stride-th scan of the large store: -n 100 -stride 2000 is the 100 scans that --uids lists in the 200,000")
	flag.Parse()
	if err := build(*base, *out, *n, *stride); err != nil {
		fmt.Fprintln(os.Stderr, "scalestore:", err)
		os.Exit(1)
	}
}

// uidOf is the uid of the i-th scan (sorted as i is); it is a link to the
// base store's scan i mod its number of scans.
func uidOf(i int) string { return fmt.Sprintf("1.2.840.99999.%09d", i) }

func build(base, out string, n, stride int) error {
	src, err := store.Open(base)
	if err != nil {
		return err
	}
	defer src.Close()
	real, err := src.Scans()
	if err != nil {
		return err
	}
	findings, err := src.FindingsWithCandidates()
	if err != nil {
		return err
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	if err := store.Init(out); err != nil {
		return err
	}
	absBase, err := filepath.Abs(base)
	if err != nil {
		return err
	}
	// The records go into the journal in one write, and Compact folds
	// them into a snapshot with its summary, as ingest's own folds do.
	f, err := os.Create(filepath.Join(out, "catalog.log"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	all := &store.Findings{Series: map[string]*store.SeriesFindings{}, Sources: findings.Sources}
	for k := range n {
		i := k * stride
		r := real[i%len(real)]
		uid := uidOf(i)
		if err := os.Symlink(filepath.Join(absBase, "scans", r.UID), filepath.Join(out, "scans", uid)); err != nil {
			return err
		}
		if sf := findings.Of(r.UID); sf != nil {
			all.Series[uid] = sf
		}
		r.UID = uid
		line, err := json.Marshal(map[string]any{"put": r})
		if err != nil {
			return err
		}
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := store.Compact(out); err != nil {
		return err
	}
	sw, err := store.NewWriter(out, store.WriteOptions{})
	if err != nil {
		return err
	}
	defer sw.Close()
	if err := sw.SetFindings(all, nil); err != nil {
		return err
	}
	return nil
}
