package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"voxmine/internal/atomicfile"
	"voxmine/internal/cli"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
)

const infoHelp = `mine info — what a store holds.

Examples:
  mine info --store store/
  mine info --store store/ --uid 1.3.6… --json
  mine info --store store/ --uid 1.3.6… --picture lungs.png   # check a lung mask by eye
`

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var storeDir, uid, picture string
	var asJSON bool
	fs := flagSet("info", infoHelp, stdout, stderr)
	fs.StringVar(&storeDir, "store", "", "the voxmine store")
	fs.StringVar(&uid, "uid", "", "show one scan in detail")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&picture, "picture", "", "with --uid: draw axial, coronal and sagittal slices with the lung labels into this PNG")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	st, err := store.Open(storeDir)
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitUsage
	}
	f, err := st.FindingsWithCandidates()
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitUsage
	}
	if uid != "" {
		info, ok := st.ScanInfo(uid)
		if !ok {
			fmt.Fprintf(stderr, "mine info: no scan %q\n", uid)
			return cli.ExitUsage
		}
		if picture != "" {
			if err := writePicture(st, uid, picture); err != nil {
				fmt.Fprintf(stderr, "mine info: %v\n", err)
				return cli.ExitData
			}
			fmt.Fprintf(stdout, "picture: %s\n", picture)
		}
		doc := map[string]any{"scan": info, "findings": f.Series[uid]}
		if asJSON {
			b, _ := json.MarshalIndent(doc, "", " ")
			fmt.Fprintln(stdout, string(b))
			return cli.ExitOK
		}
		g := info.Grid
		fmt.Fprintf(stdout, "%s\n  1 mm grid (z,y,x) %v, origin %v, direction %v\n  source %s: %v voxels at %v mm\n",
			uid, g.Shape, g.Origin, g.Direction, info.Source.Path, info.Source.Geometry.Shape, info.Source.Geometry.Spacing)
		fmt.Fprintf(stdout, "  labels: %v (%s), lung %.2f L, HU %d…%d\n", info.HasLabels, info.LabelSource, float64(info.LungVoxels)/1e6, info.HUMin, info.HUMax)
		for _, fl := range info.Flags {
			fmt.Fprintf(stdout, "  FLAG: %s\n", fl)
		}
		if sf := f.Series[uid]; sf != nil {
			fmt.Fprintf(stdout, "  annotations %d, excluded %d, candidates %d\n", len(sf.Annotations), len(sf.Excluded), len(sf.Candidates))
			for _, a := range sf.Annotations {
				fmt.Fprintf(stdout, "    nodule %.1f mm at world (%.1f, %.1f, %.1f) → voxel %v\n", a.Diameter, a.X, a.Y, a.Z,
					query.NearestVoxel(g, [3]float64{a.X, a.Y, a.Z}))
			}
		}
		return cli.ExitOK
	}
	u, _ := st.DiskUsage()
	var ann, withNodules, withLabels, computed, flagged int
	var flags []string
	for _, s := range st.Scans() {
		if sf := f.Series[s.UID]; sf != nil && len(sf.Annotations) > 0 {
			ann += len(sf.Annotations)
			withNodules++
		}
		if s.HasLabels {
			withLabels++
		}
		if s.LabelSource == "computed" {
			computed++
		}
		if len(s.Flags) > 0 {
			flagged++
			for _, fl := range s.Flags {
				flags = append(flags, s.UID+": "+fl)
			}
		}
	}
	sort.Strings(flags)
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"root": st.Root(), "scans": len(st.Scans()), "annotations": ann,
			"scans_with_nodules": withNodules, "scans_with_labels": withLabels, "computed_masks": computed,
			"flags": flags, "stored_bytes": u.StoredBytes, "raw_bytes": u.RawBytes}, "", " ")
		fmt.Fprintln(stdout, string(b))
		return cli.ExitOK
	}
	r := st.Root()
	fmt.Fprintf(stdout, "store %s (uuid %s, format %s, created %s by %s)\n", storeDir, r.UUID, r.Format, r.Created.Format("2006-01-02 15:04"), r.Tool)
	fmt.Fprintf(stdout, "scans %d: %d with nodules (%d annotations), %d with lung labels (%d computed), %d flagged\n",
		len(st.Scans()), withNodules, ann, withLabels, computed, flagged)
	fmt.Fprintf(stdout, "disk %s for %s raw (%.1f×)\n", cli.Bytes(u.StoredBytes), cli.Bytes(u.RawBytes), u.Ratio())
	for _, fl := range flags {
		fmt.Fprintf(stdout, "  FLAG %s\n", fl)
	}
	return cli.ExitOK
}

// writePicture draws a scan's lung picture into path, atomically.
func writePicture(st *store.Store, uid, path string) error {
	v, err := st.OpenVolume(uid)
	if err != nil {
		return err
	}
	defer v.Close()
	return atomicfile.Write(path, func(w io.Writer) error { return mine.LungPicture(v, w) })
}
