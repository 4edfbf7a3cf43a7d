package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
)

const roiHelp = `mine roi — one cube from one scan, as a .npy.

Examples:
  mine roi --store store/ --uid 1.3.6.1.4.1.14519.5.2.1.6279.6001.1234 --world -56.1,67.2,-110.5 --out nodule.npy
  mine roi --store store/ --uid 1.3.6… --voxel 120,200,180 --size 32 --dtype f16 --out cube.npy
`

func runROI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var storeDir, uid, world, voxel, dtype, window, out string
	var size int
	var overwrite bool
	fs := flagSet("roi", roiHelp, stdout, stderr)
	fs.StringVar(&storeDir, "store", "", "the voxmine store")
	fs.StringVar(&uid, "uid", "", "series uid")
	fs.StringVar(&world, "world", "", "centre in world mm: X,Y,Z (as in the CSVs)")
	fs.StringVar(&voxel, "voxel", "", "centre voxel on the 1 mm grid: Z,Y,X")
	fs.IntVar(&size, "size", 64, "cube edge in voxels")
	fs.StringVar(&dtype, "dtype", "f16", "f16 (the notebook's, as every command), f32 (windowed) or i16 (raw HU)")
	fs.StringVar(&window, "window", "-1000,400", "HU window for f16/f32")
	fs.StringVar(&out, "out", "", "output file: .npy, or .nii/.nii.gz (NIfTI placed in the world, for ITK-SNAP or 3D Slicer)")
	fs.BoolVar(&overwrite, "overwrite", false, "replace --out if it exists")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "mine roi: %v\n", err)
		return code
	}
	if storeDir == "" || uid == "" || out == "" || (world == "") == (voxel == "") {
		return fail(cli.ExitUsage, fmt.Errorf("--store, --uid, --out and one of --world or --voxel are required"))
	}
	if size <= 0 {
		return fail(cli.ExitUsage, fmt.Errorf("--size %d is not positive", size))
	}
	d, err := mine.ParseDType(dtype)
	if err != nil {
		return fail(cli.ExitUsage, err)
	}
	lo, hi, err := parsePair(window)
	if err != nil {
		return fail(cli.ExitUsage, fmt.Errorf("--window: %w", err))
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return fail(cli.ExitUsage, err)
	}
	if uid, err = st.Resolve(uid); err != nil { // a unique prefix will do
		return fail(cli.ExitUsage, err)
	}
	info, _, err := st.Lookup(uid)
	if err != nil {
		return fail(cli.ExitData, err)
	}
	if _, err := os.Stat(out); err == nil && !overwrite {
		return fail(cli.ExitUsage, fmt.Errorf("%s exists (use --overwrite to replace it)", out))
	}
	var c [3]int
	if world != "" {
		w, err := parseTriple(world)
		if err != nil {
			return fail(cli.ExitUsage, fmt.Errorf("--world: %w", err))
		}
		c = query.NearestVoxel(info.Grid, w)
	} else {
		v, err := parseTriple(voxel)
		if err != nil {
			return fail(cli.ExitUsage, fmt.Errorf("--voxel: %w", err))
		}
		c = [3]int{int(math.Round(v[0])), int(math.Round(v[1])), int(math.Round(v[2]))}
	}
	if err := mine.WriteROI(st, uid, c, size, d, lo, hi, out); err != nil {
		return fail(cli.ExitData, err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d³ %s around voxel (z,y,x) %v of %s\n", out, size, d, c, uid)
	return cli.ExitOK
}
