package main

import (
	"context"
	"fmt"
	"io"

	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/store"
)

const negativesHelp = `mine negatives — random background cubes in the lung, away from findings.

Centres are drawn uniformly over lung voxels (through the per-chunk lung
counts), at least --min-dist mm from every finding in --avoid, with the whole
cube inside the volume. Each scan's draws depend only on --seed and its
series uid: the same command gives the same bytes with any --workers.

The default distance is the notebook's, from each finding's centre: a 64 mm
cube 15 mm from a nodule's centre often holds the nodule off-centre. The
index's findings_in_cube counts the findings each cube touches; to keep
cubes clear, use --dist-from surface and --clear-cube. A scan that gives
fewer cubes than --per-scan is reported on stderr and in run.json
(--strict: exit 1).

Examples:
  mine negatives --store store/ --out bg/
  mine negatives --store store/ --out bg/ --per-scan 8 --seed 3 --dist-from surface --clear-cube
  # the notebook's run, reproducibly
  mine negatives --store store/ --out bg/ --scans annotated --lung hu --avoid annotations
  # hard negatives without a candidates file: half on nodule-like spots
  mine negatives --store store/ --out bg/ --per-scan 20 --hardness mix:0.5 --preview bg.png
  # only the series of a training split (a uid a line, or a CSV with seriesuid first)
  mine negatives --store store/ --out bg-train/ --uids train.csv
`

func runNegatives(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var of outputFlags
	p := mine.DefaultNegatives()
	var scans, lung, distFrom, avoid string
	fs := flagSet("negatives", negativesHelp, stdout, stderr)
	of.register(fs.FlagSet)
	fs.IntVar(&p.PerScan, "per-scan", 1, "patches per scan")
	fs.Float64Var(&p.MinDist, "min-dist", 15, "minimum distance in mm from every finding to avoid")
	fs.Uint64Var(&p.Seed, "seed", 0, "random seed")
	fs.StringVar(&scans, "scans", "all", "all, or annotated (only series with nodules, as the notebook)")
	fs.StringVar(&lung, "lung", "auto", "auto (mask, else hu), mask, hu (the notebook's 7³ test) or none")
	fs.StringVar(&distFrom, "dist-from", "center", "measure --min-dist to a finding's center or surface")
	fs.BoolVar(&p.ClearCube, "clear-cube", false, "also demand that no finding's sphere touches the cube")
	fs.StringVar(&avoid, "avoid", "annotations,excluded", "findings to keep away from: annotations, excluded, candidates (class 1)")
	fs.BoolVar(&p.AllowEdge, "allow-edge", false, "let cubes stick out of the volume (padded)")
	fs.StringVar(&p.Hardness, "hardness", "uniform", "uniform (over the lung), hard (on nodule-like spots: vessels end-on, branch points, pleural bumps) or mix:F (a fraction F hard)")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "mine negatives: %v\n", err)
		return cli.ExitUsage
	}
	switch scans {
	case "all":
	case "annotated":
		p.AnnotatedOnly = true
	default:
		return fail(fmt.Errorf("--scans %q: want all or annotated", scans))
	}
	switch distFrom {
	case "center", "centre":
	case "surface":
		p.Surface = true
	default:
		return fail(fmt.Errorf("--dist-from %q: want center or surface", distFrom))
	}
	var err error
	if p.Avoid, err = mine.ParseAvoid(avoid); err != nil {
		return fail(err)
	}
	p.Lung = mine.LungMode(lung)
	return runKind(fs, nil, &of, "bg", &p.Seed, stdout, stderr, func(st *store.Store, o mine.Output) (*mine.Result, error) {
		return mine.Negatives(ctx, st, o, p)
	})
}
