package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/store"
)

const positivesHelp = `mine positives — a cube centred on every annotated nodule.

World coordinates go to the 1 mm grid through each scan's direction matrix
(LUNA16's mirrored scans included). Nodules near the edge keep their centre:
the cube is padded on the side that falls out.

Examples:
  mine positives --store store/ --out pos/
  mine positives --store store/ --out pos/ --copies 4 --jitter 3 --seed 1 --pack
  # from LIDC-IDRI's own reads: likely malignant nodules that all 4 readers marked
  mine positives --store store/ --out pos/ --min-readers 4 --malignancy 4,5
`

func runPositives(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var of outputFlags
	var p mine.PositiveParams
	fs := flagSet("positives", positivesHelp, stdout, stderr)
	of.register(fs.FlagSet)
	fs.IntVar(&p.Copies, "copies", 0, "jittered copies per nodule, besides the centred cube")
	fs.Float64Var(&p.Jitter, "jitter", 0, "jitter radius in mm (offsets uniform in a ball)")
	fs.Float64Var(&p.MinDiameter, "min-diameter", 0, "skip nodules smaller than this (mm)")
	fs.IntVar(&p.MinReaders, "min-readers", 0, "LIDC reads: only nodules marked by at least this many radiologists")
	fs.IntSliceVar(&p.Malignancy, "malignancy", nil, "LIDC reads: only nodules whose median malignancy rating is one of these (e.g. 4,5)")
	fs.Uint64Var(&p.Seed, "seed", 0, "random seed of the jitter")
	return runKind(fs, args, &of, "positive", &p.Seed, stdout, stderr, func(st *store.Store, o mine.Output) (*mine.Result, error) {
		return mine.Positives(ctx, st, o, p)
	})
}

// runKind parses a patch command's flags (unless the command already did,
// to check its own), opens the store, runs mine with a progress display
// and reports: the part every patch command shares.
//
// seed is the command's seed: a stream's epoch replaces it with the
// epoch's own (mine.EpochSeed) before the run.
func runKind(fs *cmdFlags, args []string, of *outputFlags, what string, seed *uint64, stdout, stderr io.Writer,
	run func(st *store.Store, o mine.Output) (*mine.Result, error)) int {
	if !fs.Parsed() {
		if code, ok := fs.parse(args); !ok {
			return code
		}
	}
	o, st, err := of.output(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return cli.ExitUsage
	}
	var flush func() error
	if of.streaming() {
		*seed = mine.EpochSeed(*seed, of.epoch)
		o.ShuffleSeed = *seed
		bw := bufio.NewWriterSize(stdout, 1<<20)
		o.Stream, flush = bw, bw.Flush
	}
	o.AugmentSeed = *seed
	stop := withProgress(&o, stderr, of.quiet || of.streaming())
	res, err := run(st, o)
	stop()
	if err == nil && flush != nil {
		err = flush()
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "%s: interrupted; the patches written so far are whole, but no index was written (run the same command again with --overwrite)\n", fs.Name())
		return cli.ExitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return cli.ExitUsage
	}
	var code int
	if of.streaming() {
		code = reportStream(stderr, what, res)
	} else {
		code = report(stdout, stderr, what, res)
	}
	if short := shortfalls(stderr, res); short && of.strict && code == cli.ExitOK {
		fmt.Fprintf(stderr, "%s: the run fell short of what was asked (--strict)\n", fs.Name())
		return cli.ExitData
	}
	return code
}

const candidatesHelp = `mine candidates — cubes on candidates.csv rows (class 0: hard negatives).

Examples:
  mine candidates --store store/ --out hard/ --class 0 --per-scan 20 --min-dist-to-nodule 10
`

func runCandidates(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var of outputFlags
	var p mine.CandidateParams
	fs := flagSet("candidates", candidatesHelp, stdout, stderr)
	of.register(fs.FlagSet)
	fs.IntVar(&p.Class, "class", 0, "candidate class to cut: 0 (CAD false positives) or 1")
	fs.IntVar(&p.PerScan, "per-scan", 0, "at most this many per scan, a reproducible random subset (left out: all)")
	fs.Float64Var(&p.MinDistToNodule, "min-dist-to-nodule", 0, "drop candidates closer than this (mm) to an annotated nodule")
	fs.Uint64Var(&p.Seed, "seed", 0, "random seed of the subsampling")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	// --per-scan N means N patches per scan in every command; 0 is not a
	// count of patches, so it is refused here as in negatives rather than
	// quietly meaning "all".
	if fs.Changed("per-scan") && p.PerScan < 1 {
		fmt.Fprintf(stderr, "mine candidates: --per-scan %d: want at least 1 (leave the flag out to keep every candidate)\n", p.PerScan)
		return cli.ExitUsage
	}
	return runKind(fs, args, &of, "candidate", &p.Seed, stdout, stderr, func(st *store.Store, o mine.Output) (*mine.Result, error) {
		return mine.Candidates(ctx, st, o, p)
	})
}

const datasetHelp = `mine dataset — positives, random and hard negatives in one folder, one index.csv.

Examples:
  mine dataset --store store/ --out train/ --negatives-per-positive 6 --hard-fraction 0.5 --copies 2 --jitter 2
`

func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var of outputFlags
	p := mine.DatasetParams{Negatives: mine.DefaultNegatives()}
	fs := flagSet("dataset", datasetHelp, stdout, stderr)
	of.register(fs.FlagSet)
	fs.Float64Var(&p.NegativesPerPositive, "negatives-per-positive", 3, "negatives per positive patch")
	fs.Float64Var(&p.HardFraction, "hard-fraction", 0.5, "share of the negatives taken from class-0 candidates")
	fs.IntVar(&p.Positives.Copies, "copies", 0, "jittered copies per nodule")
	fs.Float64Var(&p.Positives.Jitter, "jitter", 0, "jitter radius in mm")
	fs.Float64Var(&p.Negatives.MinDist, "min-dist", 15, "random and hard negatives keep this far (mm) from findings")
	fs.StringVar(&p.Negatives.Hardness, "hardness", "uniform", "where the random negatives come from: uniform, hard (nodule-like spots) or mix:F")
	fs.Uint64Var(&p.Seed, "seed", 0, "random seed")
	return runKind(fs, args, &of, "dataset", &p.Seed, stdout, stderr, func(st *store.Store, o mine.Output) (*mine.Result, error) {
		return mine.Dataset(ctx, st, o, p)
	})
}
