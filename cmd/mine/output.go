package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/store"
)

// outputFlags are the flags every patch-writing command shares.
type outputFlags struct {
	store, out, window, dtype, preview, orient string
	uids                                       string
	size, workers                              int
	pack, overwrite, quiet, strict             bool
	// The stream's (--out -): an epoch, a share, shuffled scans, labels.
	epoch          int
	part           string
	shuffle, label bool
	noduleMask     bool
	// --format tar: size-capped tar shards in --out.
	format, shardSize string
	// Augmentation.
	augFlip, augRot90 bool
	augRotate         float64
	augScale          string
}

// streaming reports whether the patches go to standard output as a tar
// stream rather than into a folder.
func (f *outputFlags) streaming() bool { return f.out == "-" }

func (f *outputFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.store, "store", "", "the voxmine store (required)")
	fs.StringVar(&f.out, "out", "", "output folder, empty or new (required); - streams the patches to standard output as a tar (WebDataset layout: KEY.npy, KEY.json)")
	fs.IntVar(&f.size, "size", 64, "cube edge in voxels (1 mm)")
	fs.StringVar(&f.dtype, "dtype", "f16", "f16 (the notebook's), f32, or i16 (raw HU)")
	fs.StringVar(&f.orient, "orient", "native", "native (axes as the scan stores them, as SimpleITK) or lps (axes to the patient's left, posterior, superior: mirrored scans match the rest)")
	fs.StringVar(&f.window, "window", "-1000,400", "HU window LO,HI mapped to [0, 1]")
	fs.BoolVar(&f.pack, "pack", false, "also write patches.npy shaped (N, size, size, size) in index order")
	fs.StringVar(&f.preview, "preview", "", "write a PNG contact sheet of up to 64 patches")
	fs.IntVar(&f.workers, "workers", defaultWorkers(), "scans worked on at once")
	fs.BoolVar(&f.overwrite, "overwrite", false, "allow a non-empty --out (its patches are replaced)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress display")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when the run falls short of what was asked: a scan skipped, fewer patches than asked, a warning")
	fs.StringVar(&f.format, "format", "npy", "npy (one .npy a patch and an index CSV) or tar (the stream's layout in size-capped shards, shard-000000.tar …)")
	fs.StringVar(&f.shardSize, "shard-size", "1G", "with --format tar: start a new shard past this size (K, M, G)")
	fs.BoolVar(&f.augFlip, "aug-flip", false, "augment: flip each axis with probability 1/2")
	fs.BoolVar(&f.augRot90, "aug-rot90", false, "augment: 0–3 quarter turns in a random plane")
	fs.Float64Var(&f.augRotate, "aug-rotate", 0, "augment: rotate by up to this many degrees about a random axis, resampled from the store (corners hold anatomy, not padding)")
	fs.StringVar(&f.augScale, "aug-scale", "", "augment: scale the anatomy by a factor in LO,HI (e.g. 0.8,1.2), resampled from the store")
	fs.IntVar(&f.epoch, "epoch", 0, "with --out -: draw this epoch's samples, reproducibly from (seed, epoch); 0 draws what a file run draws")
	fs.StringVar(&f.part, "part", "", "with --out -: cut only part I/N of the scans (0 ≤ I < N); the N parts together are the whole run")
	fs.BoolVar(&f.shuffle, "shuffle", false, "with --out -: visit the scans in an order drawn from (seed, epoch)")
	fs.BoolVar(&f.label, "labels", false, "with --out - or --format tar: also write each cube's lung labels (KEY.labels.npy, uint8)")
	fs.BoolVar(&f.noduleMask, "nodule-mask", false, "with --out - or --format tar: also write each cube's nodule mask (KEY.nodule.npy, uint8): LIDC readers' 50 % consensus outlines where the series has reads, else spheres of the annotated diameters")
	fs.StringVar(&f.uids, "uids", "", "mine only the series listed in this file: one uid a line (mine split writes them), or a CSV with a seriesuid or SeriesInstanceUID column")
}

// output checks the shared flags and opens the store.
func (f *outputFlags) output(stderr io.Writer) (mine.Output, *store.Store, error) {
	var o mine.Output
	if f.store == "" || f.out == "" {
		return o, nil, fmt.Errorf("--store and --out are required")
	}
	lo, hi, err := parsePair(f.window)
	if err != nil {
		return o, nil, fmt.Errorf("--window: %w", err)
	}
	if lo >= hi {
		return o, nil, fmt.Errorf("--window %s: the minimum must be below the maximum", f.window)
	}
	d, err := mine.ParseDType(f.dtype)
	if err != nil {
		return o, nil, err
	}
	if f.size <= 0 {
		return o, nil, fmt.Errorf("--size %d is not positive", f.size)
	}
	var uids []string
	if f.uids != "" {
		if uids, err = cli.ReadUIDs(f.uids); err != nil {
			return o, nil, fmt.Errorf("--uids: %w", err)
		}
	}
	st, err := store.Open(f.store)
	if err != nil {
		return o, nil, err
	}
	o = mine.Output{UIDs: uids, Orient: f.orient, CommandLine: os.Args, Dir: f.out, Size: f.size, WindowLo: lo, WindowHi: hi, DType: d, Pack: f.pack,
		Preview: f.preview, Overwrite: f.overwrite, Workers: f.workers}
	if f.streaming() {
		o.Dir, o.Epoch, o.Shuffle = "", f.epoch, f.shuffle
		if f.part != "" {
			if o.Share, err = mine.ParseShare(f.part); err != nil {
				st.Close()
				return o, nil, fmt.Errorf("--part: %w", err)
			}
		}
	} else if f.epoch != 0 || f.part != "" || f.shuffle {
		st.Close()
		return o, nil, fmt.Errorf("--epoch, --part and --shuffle go with a stream (--out -)")
	}
	o.Labels, o.NoduleMask = f.label, f.noduleMask
	o.Augment = mine.Augment{Flip: f.augFlip, Rot90: f.augRot90, MaxAngle: f.augRotate}
	if f.augScale != "" {
		if o.Augment.ScaleLo, o.Augment.ScaleHi, err = parsePair(f.augScale); err != nil {
			st.Close()
			return o, nil, fmt.Errorf("--aug-scale: %w", err)
		}
	}
	switch f.format {
	case "npy":
		if (f.label || f.noduleMask) && !f.streaming() {
			st.Close()
			return o, nil, fmt.Errorf("--labels and --nodule-mask go with a stream (--out -) or --format tar")
		}
	case "tar":
		if f.streaming() {
			st.Close()
			return o, nil, fmt.Errorf("--format tar writes shards into a folder; --out - is already a tar")
		}
		if o.ShardSize, err = parseSize(f.shardSize); err != nil {
			st.Close()
			return o, nil, fmt.Errorf("--shard-size: %w", err)
		}
	default:
		st.Close()
		return o, nil, fmt.Errorf("--format %q: want npy or tar", f.format)
	}
	return o, st, nil
}

// withProgress wires a progress display into o and returns a stop func.
func withProgress(o *mine.Output, stderr io.Writer, quiet bool) func() {
	var p *cli.Progress
	o.Progress = func(done, total int) {
		if p == nil {
			p = cli.NewProgress(stderr, total, "scans", quiet)
		}
		p.Set(done)
	}
	return func() {
		if p != nil {
			p.Finish()
		}
	}
}

// parseSize reads a byte count: a whole number with an optional K, M or G
// (powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 500M or 1G", s)
	}
	return v * mult, nil
}

func parsePair(s string) (float64, float64, error) {
	a, b, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not two numbers LO,HI", s)
	}
	return x, y, nil
}

func parseTriple(s string) ([3]float64, error) {
	parts := strings.Split(s, ",")
	var v [3]float64
	if len(parts) != 3 {
		return v, fmt.Errorf("%q is not three comma-separated numbers", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return v, fmt.Errorf("%q: bad number %q", s, p)
		}
		v[i] = f
	}
	return v, nil
}

// shortfalls says on stderr every scan that gave fewer patches than asked,
// and the run's total, and reports whether the run fell short at all
// (shortfalls, skipped scans or warnings: what --strict turns into exit 1).
func shortfalls(stderr io.Writer, r *mine.Result) bool {
	for _, s := range r.Shortfalls {
		if s.UID == "" {
			fmt.Fprintf(stderr, "SHORT: %d of %d: %s\n", s.Got, s.Asked, s.Reason)
			continue
		}
		got := fmt.Sprintf("%d", s.Got)
		if s.Asked > 0 {
			got = fmt.Sprintf("%d of %d", s.Got, s.Asked)
		}
		fmt.Fprintf(stderr, "  short %s: %s\n", cli.About(s.UID, got), s.Reason)
	}
	if r.Asked > 0 && r.Patches < r.Asked {
		fmt.Fprintf(stderr, "SHORT: %d of the %d patches asked were cut (%d scans short, %d skipped); run.json lists each with its reason\n",
			r.Patches, r.Asked, len(r.Shortfalls), len(r.Skipped))
	}
	return len(r.Shortfalls) > 0 || len(r.Skipped) > 0 || len(r.Warnings) > 0
}

// reportStream says on stderr what a stream held (stdout is the stream):
// the counts, every skipped and failed scan, and the warnings. It returns
// 1 when scans could not be read.
func reportStream(stderr io.Writer, what string, r *mine.Result) int {
	for _, warn := range r.Warnings {
		fmt.Fprintf(stderr, "WARNING: %s\n", warn)
	}
	fmt.Fprintf(stderr, "streamed %d %s patches (%.1f MB) from %d scans in %s | skipped scans: %d, failed: %d\n", r.Patches, what,
		float64(r.Streamed)/1e6, r.Scans, r.Elapsed.Round(time.Millisecond), len(r.Skipped), len(r.Failed))
	for _, s := range r.Skipped {
		fmt.Fprintf(stderr, "  skipped %s\n", cli.About(s.UID, s.Reason))
	}
	for _, s := range r.Failed {
		fmt.Fprintf(stderr, "  FAILED %s\n", cli.About(s.UID, s.Reason))
	}
	if len(r.Failed) > 0 {
		return cli.ExitData
	}
	return cli.ExitOK
}

// report prints the notebook's closing line and where things are, and
// returns the exit code: 1 when scans could not be read.
func report(w, stderr io.Writer, what string, r *mine.Result) int {
	for _, warn := range r.Warnings {
		fmt.Fprintf(stderr, "WARNING: %s\n", warn)
	}
	rate := float64(r.Patches) / r.Elapsed.Seconds()
	if len(r.Shards) > 0 {
		fmt.Fprintf(w, "saved %d %s patches in %d tar shards to %s | scans skipped: %d, failed: %d\n", r.Patches, what, len(r.Shards), dirOf(r.RunJSON), len(r.Skipped), len(r.Failed))
		fmt.Fprintf(w, "time %s (%.0f patches/s) | run %s\n", r.Elapsed.Round(time.Millisecond), rate, r.RunJSON)
	} else {
		fmt.Fprintf(w, "saved %d %s patches to %s | scans skipped: %d, failed: %d\n", r.Patches, what, dirOf(r.Index), len(r.Skipped), len(r.Failed))
		fmt.Fprintf(w, "time %s (%.0f patches/s) | index %s | run %s\n", r.Elapsed.Round(time.Millisecond), rate, r.Index, r.RunJSON)
	}
	if r.Pack != "" {
		fmt.Fprintf(w, "packed: %s\n", r.Pack)
	}
	if r.Preview != "" {
		fmt.Fprintf(w, "preview: %s\n", r.Preview)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  skipped %s\n", cli.About(s.UID, s.Reason))
	}
	remedies := map[string]string{
		mine.FailCorrupt: "a stored file is damaged: re-ingest this scan with ingest --force",
		mine.FailMissing: "a stored file is missing: re-ingest, or drop the scan with ingest --repair",
	}
	for _, s := range r.Failed {
		fmt.Fprintf(w, "  FAILED %s\n", cli.About(s.UID, s.Reason))
		if fix := remedies[s.Kind]; fix != "" {
			fmt.Fprintf(w, "    %s\n", fix)
		}
	}
	if len(r.Failed) > 0 {
		return cli.ExitData
	}
	return cli.ExitOK
}

func dirOf(index string) string {
	if i := strings.LastIndexByte(index, '/'); i >= 0 {
		return index[:i]
	}
	return "."
}
