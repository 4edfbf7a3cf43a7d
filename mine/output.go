package mine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"voxmine/internal/atomicfile"
	"voxmine/internal/clip"
	"voxmine/store"
)

// Output says how patches are written; every kind shares it.
type Output struct {
	Dir  string
	Size int
	// Window maps HU to values ([-1000, 400] → [0, 1] by default).
	WindowLo, WindowHi float64
	DType              DType
	// Pack also writes DIR/patches.npy shaped (N, size, size, size).
	Pack bool
	// Preview writes a contact sheet PNG of up to 64 patches.
	Preview string
	// Overwrite allows a non-empty DIR.
	Overwrite bool
	Workers   int
	// Progress is called as scans are finished (done of total scans).
	Progress func(done, total int)
	// CommandLine, when set, is recorded in run.json.
	CommandLine []string
	// Orient is "native" (default: the cube's axes follow the scan's stored
	// direction, as SimpleITK's arrays do) or "lps": each axis runs to the
	// patient's left, posterior and superior, so LUNA16's mirrored scans
	// match the rest. With "lps" the index gains a column orient.
	Orient string
	// UIDs, when not empty, are the only series mined (a training split,
	// the scans of one reconstruction kernel); each must be in the store.
	UIDs []string

	// Stream, when set, receives the patches as a tar stream (stream.go)
	// instead of files: nothing is written to Dir, which may be empty, and
	// Pack and Preview are refused.
	Stream io.Writer
	// ShardSize, when positive, writes the stream's layout into Dir as tar
	// shards (shard-000000.tar, …) of about this many bytes each, with a
	// run.json, instead of one .npy a patch and an index.
	ShardSize int64
	// Labels also streams each cube's lung labels (KEY.labels.npy, uint8).
	Labels bool
	// NoduleMask also streams each cube's nodule mask (KEY.nodule.npy,
	// uint8: 1 in an annotated nodule), from the LIDC readers' consensus
	// outlines where the series has reads, else spheres of the annotated
	// diameters; the index column nodule_mask says which.
	NoduleMask bool
	// Share is the one share of the run's scans this run cuts (zero: all).
	Share Share
	// Shuffle visits the scans in an order drawn from ShuffleSeed rather
	// than the store's (for a stream's epoch; a file run's bytes do not
	// depend on the order).
	Shuffle     bool
	ShuffleSeed uint64
	// Epoch is recorded in each streamed row; the samplers' seed is the
	// epoch's seed (EpochSeed), which the caller sets.
	Epoch int
	// Augment transforms each cube (augment.go), drawn from AugmentSeed
	// and the patch's name; the index gains AugmentColumns.
	Augment     Augment
	AugmentSeed uint64
}

// DefaultOutput is the notebook's: 64³ float16 in [0, 1].
func DefaultOutput(dir string) Output {
	return Output{Dir: dir, Size: 64, WindowLo: -1000, WindowHi: 400, DType: F16, Workers: 1}
}

// chosen returns the uids of the scans o.UIDs names, sorted, or of all the
// store's scans when it names none. A uid the store does not hold is an
// error, so that a typo or a list from another store does not pass
// silently. Each named scan is found by binary search in the catalog: a
// run over 100 scans of 200,000 reads 100 records.
func (o *Output) chosen(st *store.Store) ([]string, error) {
	if len(o.UIDs) == 0 {
		return st.UIDs()
	}
	uids := slices.Compact(slices.Sorted(slices.Values(o.UIDs)))
	var missing []string
	for _, u := range uids {
		_, ok, err := st.Lookup(u)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%d of the %d series asked for are not in the store, e.g. %s", len(missing), len(o.UIDs), clip.Q(missing[0]))
	}
	return uids, nil
}

// findings loads the findings a run needs: of the scans o.UIDs names, or
// for a run over the whole store, the store's tables read series by
// series as the run asks (Findings.Of), so that it holds one series'
// findings at a time.
func (o *Output) findings(st *store.Store, withCandidates bool) (*store.Findings, error) {
	if len(o.UIDs) == 0 {
		return st.OpenFindings(withCandidates)
	}
	uids, err := o.chosen(st)
	if err != nil {
		return nil, err
	}
	return st.FindingsOf(uids, withCandidates)
}

func (o *Output) validate() (*Window, error) {
	switch o.Orient {
	case "", "native", "lps":
	default:
		return nil, fmt.Errorf("orient %q: want native or lps", o.Orient)
	}
	if o.Size <= 0 {
		return nil, fmt.Errorf("size %d is not positive", o.Size)
	}
	if o.Size > 512 {
		return nil, fmt.Errorf("size %d is larger than any scan", o.Size)
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.DType == "" {
		o.DType = F16
	}
	if err := o.Augment.validate(); err != nil {
		return nil, err
	}
	if o.DType == U8 {
		return nil, fmt.Errorf("dtype %q is for labels, not patches", o.DType)
	}
	if (o.Stream != nil || o.ShardSize > 0) && (o.Pack || o.Preview != "") {
		return nil, fmt.Errorf("a stream and tar shards hold the patches themselves: --pack and --preview go with .npy files")
	}
	if (o.Labels || o.NoduleMask) && o.Stream == nil && o.ShardSize <= 0 {
		return nil, fmt.Errorf("labels and nodule masks are written beside cubes in a stream or tar shards only")
	}
	if o.Share.N > 0 {
		if _, err := ParseShare(fmt.Sprintf("%d/%d", o.Share.I, o.Share.N)); err != nil {
			return nil, err
		}
	}
	return NewWindow(o.WindowLo, o.WindowHi, o.DType)
}

// Sample is one patch to cut: the scan, the centre voxel on the 1 mm grid,
// its file name and the rest of its index row.
type Sample struct {
	UID    string
	Center [3]int
	File   string
	Row    []string // index columns after patch_file
	// Kind, when set, names how the sample was drawn ("hard", "uniform");
	// the preview shows it.
	Kind string
	// aug is the sample's drawn augmentation (Output.Augment).
	aug transform
}

// Skip is a scan that gave no patch, and why.
type Skip struct {
	UID    string `json:"seriesuid"`
	Reason string `json:"reason"`
	// Kind classifies a failure (empty for a skip): FailCorrupt,
	// FailMissing or FailRead.
	Kind string `json:"kind,omitempty"`
}

// Shortfall is a scan that gave fewer patches than the run asked of it,
// and why (the rules, spots used up, too few candidates). A run-level
// shortfall (a dataset's hard negatives with no candidates anywhere) has
// no uid.
type Shortfall struct {
	UID    string `json:"seriesuid,omitempty"`
	Asked  int    `json:"asked"`
	Got    int    `json:"got"`
	Reason string `json:"reason"`
}

// Kinds of failure, each with its own remedy.
const (
	FailCorrupt = "corrupt" // a damaged stored file: re-ingest the scan (ingest --force)
	FailMissing = "missing" // a stored file is gone: re-ingest, or drop it (ingest --repair)
	FailRead    = "read"    // anything else: an I/O error, a cancelled run
)

// failureKind classifies why a scan could not be mined.
func failureKind(err error) string {
	var ce *store.CorruptionError
	switch {
	case errors.As(err, &ce):
		return FailCorrupt
	case errors.Is(err, fs.ErrNotExist):
		return FailMissing
	}
	return FailRead
}

// kind describes one sort of patch for the shared path.
type kind struct {
	name    string   // "negatives", "positives", …
	index   string   // index file name
	columns []string // index columns after patch_file
	// sample draws one scan's samples; an empty result with a reason
	// skips the scan.
	sample func(ctx context.Context, v *store.Volume, info store.ScanInfo) ([]Sample, string, error)
	// scans picks the scans to visit (nil: all).
	scans func(uid string) bool
	// asked is how many patches the run asks of a scan (nil: no set
	// number, as positives take every nodule); a scan that gives fewer is
	// a shortfall.
	asked func(uid string) int
	// unlabelled, when set, is the warning for n visited scans without
	// lung labels.
	unlabelled func(n int) string
	// findings are what the kind reads series' findings from: a read of
	// them that failed fails the run.
	findings *store.Findings
	// short are shortfalls of the run as a whole, known before any scan is
	// cut; warnings are its fallbacks.
	short    []Shortfall
	warnings []string
}

// Result is what a run wrote.
type Result struct {
	RunUUID string
	Patches int
	Scans   int // scans that gave patches
	Skipped []Skip
	Failed  []Skip // scans whose data could not be read
	// Shortfalls are the scans (and the run) that gave fewer patches than
	// asked; Asked is what the run asked in all (0 where it sets no number).
	Shortfalls []Shortfall
	Asked      int
	Index      string
	Pack       string
	Preview    string
	RunJSON    string
	Elapsed    time.Duration
	Sampling   time.Duration
	Writing    time.Duration
	// Warnings say what makes the run's patches doubtful though nothing
	// failed (a store without findings: negatives that avoid nothing).
	Warnings []string
	// Streamed counts the bytes of the members written to a stream.
	Streamed int64
	// Shards are the tar shards written with Output.ShardSize.
	Shards []string
	// used are the scans that gave patches.
	used []usedScan
}

// usedScan is a scan that gave patches, with what identifies its stored
// volume (a re-ingest with other settings gives it a new volume uuid), as
// run.json lists it.
type usedScan struct {
	UID         string            `json:"seriesuid"`
	VolumeUUID  string            `json:"volume_uuid"`
	PadHU       int16             `json:"pad_hu"`
	LabelSource store.LabelSource `json:"label_source"`
	Tool        string            `json:"tool_version"`
	Ingested    time.Time         `json:"ingested"`
	Source      string            `json:"source"`
}

func usedOf(s store.ScanInfo) usedScan {
	return usedScan{s.UID, s.VolumeUUID, s.PadHU, s.LabelSource, s.Tool, s.Ingested, s.Source.Path}
}

// outputNames are the files a run writes besides its patches; prepareDir
// removes them with --overwrite.
var outputNames = []string{"patches.npy", "run.json", "bg_index.csv", "pos_index.csv", "cand_index.csv", "index.csv"}

// prepareDir creates dir, refusing one that holds anything unless
// overwrite, in which case earlier voxmine outputs are removed.
func prepareDir(dir string, overwrite bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == lockName })
	if len(entries) > 0 {
		if !overwrite {
			return fmt.Errorf("output folder %s is not empty (use --overwrite to replace its patches)", dir)
		}
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, ".npy") || strings.HasPrefix(n, ".tmp-") || contains(outputNames, n) || isShard(n) {
				if err := os.Remove(filepath.Join(dir, n)); err != nil {
					return err
				}
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Fail now, not after sampling, if the folder is not writable.
	f, err := os.CreateTemp(dir, ".tmp-probe-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// isShard reports whether a file name is one of a run's tar shards.
func isShard(name string) bool {
	var n int
	_, err := fmt.Sscanf(name, "shard-%06d.tar", &n)
	return err == nil && name == fmt.Sprintf("shard-%06d.tar", n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// subsetDir matches LUNA16's fold folders.
var subsetDir = regexp.MustCompile(`^subset(\d+)$`)

// SubsetOf returns the N of the last subsetN folder in a scan's path, "" if
// there is none.
func SubsetOf(path string) string {
	dir := filepath.Dir(path)
	for dir != "." && dir != string(filepath.Separator) && dir != "" {
		if m := subsetDir.FindStringSubmatch(filepath.Base(dir)); m != nil {
			return m[1]
		}
		next := filepath.Dir(dir)
		if next == dir {
			break
		}
		dir = next
	}
	return ""
}

// writeIndex writes the index CSV atomically: the header, then each
// scan's rows as indexRows rendered them, in scan order.
func writeIndex(path string, columns []string, perScan [][]byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		c := csv.NewWriter(w)
		c.Write(append([]string{"patch_file"}, columns...))
		c.Flush()
		if err := c.Error(); err != nil {
			return err
		}
		bw := bufio.NewWriterSize(w, 256<<10)
		for _, rows := range perScan {
			bw.Write(rows)
		}
		return bw.Flush()
	})
}

// indexRows renders samples as index rows. A run keeps each scan's rows
// so, some 150 bytes a patch, rather than its samples (a kilobyte each):
// a run's memory then stays small at 200,000 patches.
func indexRows(samples []Sample) []byte {
	var b bytes.Buffer
	c := csv.NewWriter(&b)
	for _, s := range samples {
		c.Write(append([]string{s.File}, s.Row...))
	}
	c.Flush()
	return b.Bytes()
}

func writeRunJSON(path string, st *store.Store, kind string, o Output, params any, r *Result) error {
	storeDir, err := filepath.Abs(st.Dir())
	if err != nil {
		storeDir = st.Dir()
	}
	used := r.used
	if used == nil {
		used = []usedScan{}
	}
	nonNil := func(s []Skip) []Skip {
		if s == nil {
			return []Skip{}
		}
		return s
	}
	warnings := r.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	doc := map[string]any{
		"run_uuid":     r.RunUUID,
		"store":        storeDir,
		"command_line": o.CommandLine,
		"scans":        used,
		"warnings":     warnings,
		"store_uuid":   st.UUID(),
		"command":      kind,
		"version":      store.ToolVersion,
		"created":      time.Now().UTC(),
		"output": map[string]any{
			"dir": o.Dir, "size": o.Size, "window": []float64{o.WindowLo, o.WindowHi}, "dtype": o.DType, "orient": orientName(o.Orient),
			"pack": o.Pack, "preview": o.Preview, "workers": o.Workers, "uids": o.UIDs,
			"shard_size": o.ShardSize, "shards": r.Shards, "labels": o.Labels, "nodule_mask": o.NoduleMask,
			"augment": o.Augment,
		},
		"params": params,
		"counts": map[string]int{"patches": r.Patches, "asked": r.Asked, "scans_used": r.Scans, "scans_skipped": len(r.Skipped),
			"scans_failed": len(r.Failed), "scans_short": len(r.Shortfalls)},
		"skipped":    nonNil(r.Skipped),
		"failed":     nonNil(r.Failed),
		"shortfalls": nonNilShort(r.Shortfalls),
		// sampling_s and cutting_s add up the workers' time on each (so
		// with several workers they may exceed total_s, the wall time).
		"timings": map[string]float64{
			"sampling_s": r.Sampling.Seconds(), "cutting_s": r.Writing.Seconds(), "total_s": r.Elapsed.Seconds(),
			"workers": float64(o.Workers),
		},
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

func nonNilShort(s []Shortfall) []Shortfall {
	if s == nil {
		return []Shortfall{}
	}
	return s
}

func orientName(o string) string {
	if o == "" {
		return "native"
	}
	return o
}
