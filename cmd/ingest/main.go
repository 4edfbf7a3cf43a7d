// Command ingest converts LUNA16-style CT scans into a voxmine store, once:
// 1 mm resampling, lung masks, a per-chunk index and the dataset's CSVs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"voxmine/ingest"
	"voxmine/ingest/synth"
	"voxmine/internal/cli"
	"voxmine/internal/clip"
	"voxmine/store"
)

const usage = `ingest — convert CT scans into a voxmine store, once.

Usage:
  ingest --src DIR [--src DIR …] --out STORE [options]
  ingest --synthetic N --src DIR [--seed S] [--small] [--variants] [--out STORE]
  ingest --out STORE --annotations CSV [--annotations-excluded CSV] [--candidates CSV]
  ingest --repair --out STORE

Examples:
  # LUNA16 as downloaded: subsets, seg-lungs masks and CSVs
  ingest --src luna16/subset0 --src luna16/subset1 --masks luna16/seg-lungs-LUNA16 \
         --annotations luna16/annotations.csv --annotations-excluded luna16/annotations_excluded.csv \
         --candidates luna16/candidates_V2.csv --out store/

  # a synthetic LUNA16-like dataset of 8 scans, then its store
  ingest --synthetic 8 --src synth/ --out store/

  # LIDC-IDRI as TCIA ships it (DICOM + the radiologists' XML): no CSV needed
  ingest --src LIDC-IDRI/ --out store/ --lidc-consensus 3

  # add candidates (or a corrected annotations.csv) to a store, no scan read
  ingest --out store/ --candidates luna16/candidates_V2.csv

  # one of four processes of a Slurm array writing into one store
  ingest --src luna16 --out store/ --shard $SLURM_ARRAY_TASK_ID/4

  # only the series an annotations table names (LUNA25's .mha, or a big archive)
  ingest --src luna25_images/ --uids luna25.csv --annotations luna25.csv --out store/

Re-running skips scans already stored from unchanged files (--force redoes
them); an interrupted run resumes where it stopped. Exit status: 0 all well,
1 some scans failed (listed at the end), 2 usage or setup error, 130
interrupted (Ctrl-C; run the same command again to resume). --version prints
the version.
--cpuprofile FILE writes a CPU profile of the run for go tool pprof,
--memprofile FILE a heap profile at its end.

Options:
`

type options struct {
	src                               []string
	out, masks                        string
	annotations, excluded, candidates string
	lidcConsensus                     int
	findCSVs                          bool
	workers                           int
	maxVoxels                         int64
	pad                               int16
	shard, lung, uids                 string
	force, quiet, compare, repair     bool
	synthetic                         int
	seed                              uint64
	small, variants, noShuffle, hc    bool
}

func main() {
	// A scan's arrays are hundreds of megabytes without pointers: collecting
	// them at half the default heap growth costs no measurable time and
	// keeps peak memory well inside 3× a scan per worker (BENCHMARKS.md).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	args, stop, err := cli.StartProfile(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
		os.Exit(cli.ExitUsage)
	}
	code := run(args, os.Stdout, os.Stderr)
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "ingest: %v\n", err)
	}
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(stdout, "ingest", cli.Version())
		return cli.ExitOK
	}
	fs := pflag.NewFlagSet("ingest", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVar(&o.src, "src", nil, "folder searched recursively, symbolic links followed, for scans: MetaImage .mhd/.mha, DICOM series (LIDC-IDRI XML reads beside them), NIfTI .nii/.nii.gz (repeatable)")
	fs.StringVar(&o.out, "out", "", "the store to create or add to")
	fs.StringVar(&o.masks, "masks", "", "folder of lung masks: seg-lungs-LUNA16 style (<seriesuid>.mhd, .nii.gz), or TotalSegmentator's output (<seriesuid>/lung_*_lobe_*.nii.gz)")
	fs.StringVar(&o.annotations, "annotations", "", "annotations.csv (seriesuid,coordX,coordY,coordZ,diameter_mm)")
	fs.StringVar(&o.excluded, "annotations-excluded", "", "annotations_excluded.csv")
	fs.StringVar(&o.candidates, "candidates", "", "candidates.csv or candidates_V2.csv (…,class)")
	fs.BoolVar(&o.findCSVs, "find-csvs", true, "take annotations.csv, annotations_excluded.csv and candidates(_V2).csv from a --src folder when not named")
	fs.IntVar(&o.lidcConsensus, "lidc-consensus", 3, "LIDC-IDRI XML reads beside DICOM series, when no --annotations is given: a nodule marked by at least this many readers is an annotation, the rest excluded findings (0: ignore the reads)")
	fs.IntVar(&o.workers, "workers", max(1, runtime.NumCPU()/2), "scans ingested at once (memory: about 3× a scan's raw size each)")
	fs.Int64Var(&o.maxVoxels, "max-voxels", ingest.DefaultMaxVoxels, "per-scan budget: a scan whose stored or 1 mm grid holds more voxels fails alone, before anything is allocated (each voxel costs about 6 bytes while a scan is ingested)")
	fs.Int16Var(&o.pad, "pad-hu", -1000, "HU given to 1 mm voxels outside the scan (SimpleITK would use 0)")
	fs.StringVar(&o.shard, "shard", "0/1", "I/N: ingest only shard I of N (a deterministic split by series uid)")
	fs.StringVar(&o.uids, "uids", "", "ingest only the series listed in this file: one uid a line, or a CSV with a seriesuid or SeriesInstanceUID column (an annotations table: only the annotated series)")
	fs.StringVar(&o.lung, "lung", "auto", "lung labels: auto (mask file, else computed), masks, compute or none")
	fs.BoolVar(&o.compare, "compare-masks", false, "report the Dice of computed masks against mask files")
	fs.BoolVar(&o.force, "force", false, "re-ingest scans already stored")
	fs.BoolVar(&o.quiet, "quiet", false, "print only errors and the summary")
	fs.BoolVar(&o.repair, "repair", false, "rebuild the store's catalog from its scans and exit")
	fs.IntVar(&o.synthetic, "synthetic", 0, "write N synthetic LUNA16-like scans into --src (an empty folder)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic dataset")
	fs.BoolVar(&o.small, "small", false, "synthetic: small scans (for tests)")
	fs.BoolVar(&o.variants, "variants", false, "synthetic: add MetaImage variants and three broken scans")
	fs.BoolVar(&o.noShuffle, "no-shuffle", false, "store chunks without the blosc byte shuffle")
	fs.BoolVar(&o.hc, "lz4hc", false, "compress with LZ4-HC (slower to write, a little smaller)")
	if code, ok := cli.Parse(fs, args, strings.TrimSuffix(usage, "Options:\n"), stdout, stderr); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.repair {
		if o.out == "" {
			fmt.Fprintln(stderr, "ingest: --repair needs --out STORE")
			return cli.ExitUsage
		}
		n, dropped, err := store.Rebuild(o.out)
		if err != nil {
			fmt.Fprintf(stderr, "ingest: %v\n", err)
			return cli.ExitUsage
		}
		fmt.Fprintf(stdout, "catalog rebuilt: %d scans\n", n)
		for _, uid := range dropped {
			fmt.Fprintf(stdout, "  dropped %s: its scan folder is gone or unfinished (ingest it again to bring it back)\n", uid)
		}
		return cli.ExitOK
	}
	if o.synthetic > 0 {
		if len(o.src) != 1 {
			fmt.Fprintln(stderr, "ingest: --synthetic needs exactly one --src folder to write into")
			return cli.ExitUsage
		}
		dir := o.src[0]
		p := cli.NewProgress(stderr, o.synthetic, "scans generated", o.quiet)
		t0 := time.Now()
		_, err := synth.Generate(ctx, dir, synth.Options{N: o.synthetic, Seed: o.seed, Small: o.small, Variants: o.variants,
			Workers: runtime.NumCPU(), Progress: func(done, total int) { p.Set(done) }})
		p.Finish()
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "ingest: interrupted while generating the synthetic dataset in %s (remove it, or run the same command again into an empty folder)\n", dir)
			return cli.ExitInterrupted
		}
		if err != nil {
			fmt.Fprintf(stderr, "ingest: %v\n", err)
			return cli.ExitUsage
		}
		fmt.Fprintf(stdout, "synthetic dataset: %d scans in %s (%s)\n", o.synthetic, dir, time.Since(t0).Round(time.Millisecond))
		if o.out == "" {
			return cli.ExitOK
		}
		o.masks = filepath.Join(dir, "seg-lungs-LUNA16")
		o.annotations = filepath.Join(dir, "annotations.csv")
		o.excluded = filepath.Join(dir, "annotations_excluded.csv")
		o.candidates = filepath.Join(dir, "candidates.csv")
	}
	if len(o.src) == 0 && o.out != "" && (o.annotations != "" || o.excluded != "" || o.candidates != "") {
		return loadFindings(ctx, o, stdout, stderr)
	}
	if len(o.src) == 0 || o.out == "" {
		fmt.Fprintln(stderr, "ingest: --src and --out are required (see --help)")
		return cli.ExitUsage
	}
	var uids []string
	if o.uids != "" {
		var err error
		if uids, err = cli.ReadUIDs(o.uids); err != nil {
			fmt.Fprintf(stderr, "ingest: --uids: %v\n", err)
			return cli.ExitUsage
		}
	}
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		fmt.Fprintf(stderr, "ingest: --shard: %v\n", err)
		return cli.ExitUsage
	}
	var prog *cli.Progress
	opts := ingest.Options{
		Sources: o.src, StoreDir: o.out, MaskDir: o.masks,
		Annotations: o.annotations, Excluded: o.excluded, Candidates: o.candidates, LIDCConsensus: lidcK(o.lidcConsensus), FindCSVs: o.findCSVs,
		Planned: func(r *ingest.Report) { printFound(stdout, r, o) },
		Workers: o.workers, MaxVoxels: o.maxVoxels, Collect: true, PadHU: o.pad, Lung: ingest.LungSource(o.lung), Shard: shard, Shards: shards, UIDs: uids,
		Force: o.force, CompareMasks: o.compare,
		Write: store.WriteOptions{NoShuffle: o.noShuffle, HC: o.hc},
		Progress: func(p ingest.Progress) {
			if prog == nil {
				prog = cli.NewProgress(stderr, p.Total, "scans", o.quiet)
			}
			if p.Last.Status == ingest.Failed && prog != nil && !o.quiet {
				// Say it now too; the summary lists it again.
				fmt.Fprintf(stderr, "\nfailed: %v\n", p.Last.Err)
			}
			prog.Set(p.Done)
		},
	}
	rep, err := ingest.Run(ctx, opts)
	if prog != nil {
		prog.Finish()
	}
	if rep == nil {
		fmt.Fprintf(stderr, "ingest: %v\n", err)
		return cli.ExitUsage
	}
	if err != nil { // interrupted: scans cut short are not failures
		kept := rep.Results[:0]
		for _, r := range rep.Results {
			if !errors.Is(r.Err, context.Canceled) {
				kept = append(kept, r)
			}
		}
		rep.Results = kept
	}
	printReport(stdout, rep, o)
	if err != nil {
		resume := "the same command"
		if o.synthetic > 0 { // the data is written: resume the ingest, not the generation
			resume = fmt.Sprintf("ingest --src %s --out %s", o.src[0], o.out)
		}
		fmt.Fprintf(stderr, "ingest: interrupted: %d scans stored, %d already current, %d not finished; every stored scan is whole. Run %s again to resume.\n",
			rep.Count(ingest.Ingested), rep.Count(ingest.Skipped), rep.Selected-len(rep.Results), resume)
		return cli.ExitInterrupted
	}
	if len(rep.Failed()) > 0 {
		return cli.ExitData
	}
	return cli.ExitOK
}

// loadFindings puts CSVs into an existing store without reading a scan.
func loadFindings(ctx context.Context, o options, stdout, stderr io.Writer) int {
	rep, err := ingest.LoadFindings(ctx, ingest.Options{StoreDir: o.out, Annotations: o.annotations, Excluded: o.excluded, Candidates: o.candidates})
	if err != nil {
		fmt.Fprintf(stderr, "ingest: %v\n", err)
		return cli.ExitUsage
	}
	for _, k := range []string{"annotations", "excluded", "candidates"} {
		if n, ok := rep.FindingRows[k]; ok {
			fmt.Fprintf(stdout, "%s: %d rows of %d series, %d of them among the %d stored scans", k, n, rep.Series[k], rep.SeriesMatched[k], rep.Mapped)
			if u := rep.Unmatched[k]; u > 0 {
				fmt.Fprintf(stdout, " (%d rows for series not stored)", u)
			}
			fmt.Fprintln(stdout)
		}
	}
	for _, n := range rep.CSVNotes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintf(stdout, "findings loaded into %s; no scan read (each CSV replaces its kind of findings)\n", o.out)
	return cli.ExitOK
}

func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("%q is not I/N with 0 ≤ I < N", s)
	}
	return i, n, nil
}

// printFound says what ingest found, before it reads a scan.
func printFound(w io.Writer, rep *ingest.Report, o options) {
	fmt.Fprintf(w, "CT scans mapped: %d | masks found: %d\n", rep.Mapped, rep.MasksFound)
	folders := make([]string, 0, len(rep.PerFolder))
	for d := range rep.PerFolder {
		folders = append(folders, d)
	}
	sort.Strings(folders)
	for i, d := range folders {
		if i == 12 {
			fmt.Fprintf(w, "  … and %d more folders\n", len(folders)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %d scans\n", d, rep.PerFolder[d])
	}
	if rep.MaskDir != "" && rep.MaskDir != o.masks {
		fmt.Fprintf(w, "masks from %s (found in the source folder)\n", rep.MaskDir)
	}
	if o.uids != "" {
		fmt.Fprintf(w, "--uids %s: %d of them", o.uids, rep.Selected)
		if n := len(rep.NotFound); n > 0 {
			fmt.Fprintf(w, "; %d listed series not found below the sources (e.g. %s)", n, clip.Q(rep.NotFound[0]))
		}
		fmt.Fprintln(w)
	} else if rep.Selected != rep.Mapped {
		fmt.Fprintf(w, "shard %s: %d of them\n", o.shard, rep.Selected)
	}
	for _, k := range []string{"annotations", "excluded", "candidates"} {
		if p, ok := rep.FoundCSVs[k]; ok {
			fmt.Fprintf(w, "%s: took %s from the source folder (--find-csvs=false to leave it)\n", k, p)
		}
	}
	if rep.ReadSeries > 0 {
		fmt.Fprintf(w, "LIDC reads: findings of %d series from the radiologists' XML (consensus of %d readers)\n", rep.ReadSeries, o.lidcConsensus)
	}
	for _, k := range []string{"annotations", "excluded", "candidates"} {
		if n, ok := rep.FindingRows[k]; ok {
			fmt.Fprintf(w, "%s: %d rows of %d series, %d of them among the scans found", k, n, rep.Series[k], rep.SeriesMatched[k])
			if u := rep.Unmatched[k]; u > 0 {
				fmt.Fprintf(w, " (%d rows for series not found here)", u)
			}
			fmt.Fprintln(w)
		}
	}
	for _, n := range rep.CSVNotes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	const most = 20
	if n := len(rep.Skipped); n > 0 {
		fmt.Fprintf(w, "skipped %d files, each with the reason:\n", n)
		for i, sk := range rep.Skipped {
			if i == most {
				fmt.Fprintf(w, "  … and %d more\n", n-most)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", sk.Path, sk.Reason)
		}
	}
	for _, d := range rep.Duplicates {
		fmt.Fprintf(w, "duplicate: %s has the uid of a scan found earlier; left out\n", d)
	}
}

// printReport says what ingest did.
func printReport(w io.Writer, rep *ingest.Report, o options) {
	var tot ingest.Timing
	fallbacks := 0
	for _, r := range rep.Results {
		tot.Read += r.Timing.Read
		tot.Resample += r.Timing.Resample
		tot.Mask += r.Timing.Mask
		tot.Spots += r.Timing.Spots
		tot.Write += r.Timing.Write
		if r.Dice > 0 {
			fmt.Fprintf(w, "dice %s %.4f\n", r.UID, r.Dice)
		}
		for _, f := range r.Flags {
			fmt.Fprintf(w, "flag %s: %s\n", r.UID, f)
		}
		if r.Fallback != "" {
			fallbacks++
			fmt.Fprintf(w, "FALLBACK %s: %s\n", r.UID, r.Fallback)
		}
	}
	for _, s := range rep.Outside {
		fmt.Fprintf(w, "OUTSIDE %s\n", s)
	}
	if n := len(rep.Outside); n > 0 {
		fmt.Fprintf(w, "%d findings lie outside their scans: mining leaves them out (listed above with OUTSIDE)\n", n)
	}
	if fallbacks > 0 {
		fmt.Fprintf(w, "%d scans got something other than asked (listed above with FALLBACK)\n", fallbacks)
	}
	fmt.Fprintf(w, "ingested %d, already current %d, failed %d in %s (read %s, resample %s, mask %s, spots %s, compress+write %s)\n",
		rep.Count(ingest.Ingested), rep.Count(ingest.Skipped), rep.Count(ingest.Failed), rep.Elapsed.Round(time.Millisecond),
		tot.Read.Round(time.Millisecond), tot.Resample.Round(time.Millisecond), tot.Mask.Round(time.Millisecond), tot.Spots.Round(time.Millisecond), tot.Write.Round(time.Millisecond))
	if s, err := store.Open(o.out); err == nil {
		if u, err := s.DiskUsage(); err == nil {
			fmt.Fprintf(w, "store %s: %d scans, %s on disk for %s raw (%.1f×)\n", o.out, u.Scans, cli.Bytes(u.StoredBytes), cli.Bytes(u.RawBytes), u.Ratio())
		}
	}
	if f := rep.Failed(); len(f) > 0 {
		fmt.Fprintf(w, "%d scans failed:\n", len(f))
		for _, r := range f {
			fmt.Fprintf(w, "  %s\n", cli.About(r.Path, r.Err.Error()))
		}
	}
}

// lidcK maps the flag (0: ignore the reads) to ingest.Options.LIDCConsensus.
func lidcK(k int) int {
	if k <= 0 {
		return -1
	}
	return k
}
