package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"voxmine/internal/atomicfile"
	"voxmine/internal/cli"
	"voxmine/internal/clip"
	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
)

const infoHelp = `mine info — what a store holds.

Examples:
  mine info --store store/
  mine info --store store/ --scans            # a row per scan
  mine info --store store/ --uid 1.3.6.1.4.1.14519.5.2.1.6279.6001.17904   # a unique start of a uid will do
  mine info --store store/ --uid 1.3.6… --json
  mine info --store store/ --uid 1.3.6… --picture lungs.png   # check a lung mask by eye
`

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var storeDir, uid, picture string
	var asJSON, list bool
	fs := flagSet("info", infoHelp, stdout, stderr)
	fs.StringVar(&storeDir, "store", "", "the voxmine store")
	fs.StringVar(&uid, "uid", "", "show one scan in detail")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.BoolVar(&list, "scans", false, "list the scans: uid, subset, grid, lung litres, nodules, flags")
	fs.StringVar(&picture, "picture", "", "with --uid: draw axial, coronal and sagittal slices with the lung labels into this PNG")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if picture != "" && uid == "" {
		fmt.Fprintln(stderr, "mine info: --picture draws one scan: give its --uid too")
		return cli.ExitUsage
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
		return infoScan(st, f, uid, picture, asJSON, stdout, stderr)
	}
	u, _ := st.DiskUsage()
	var ann, withNodules, withLabels, computed, flagged int
	var flags []string
	bySource := map[string][2]int{} // where annotations came from: series, nodules
	for _, s := range st.Scans() {
		if sf := f.Series[s.UID]; sf != nil && len(sf.Annotations) > 0 {
			ann += len(sf.Annotations)
			withNodules++
			from := sf.Origin()
			n := bySource[from]
			bySource[from] = [2]int{n[0] + 1, n[1] + len(sf.Annotations)}
		}
		if s.HasLabels {
			withLabels++
		}
		if s.LabelSource == store.LabelsComputed {
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
	problems := st.Check()
	type row struct {
		UID     string   `json:"seriesuid"`
		Subset  string   `json:"subset"`
		Grid    [3]int   `json:"grid_zyx"`
		Litres  float64  `json:"lung_litres"`
		Nodules int      `json:"nodules"`
		Labels  string   `json:"label_source"`
		Flags   []string `json:"flags"`
		store.Provenance
	}
	var rows []row
	withProvenance := false
	for _, s := range st.Scans() {
		r := row{UID: s.UID, Subset: mine.SubsetOf(s.Source.Path), Grid: s.Grid.Shape, Litres: float64(s.LungVoxels) / 1e6, Labels: string(s.LabelSource), Flags: s.Flags,
			Provenance: s.Source.Provenance}
		withProvenance = withProvenance || r.Provenance != (store.Provenance{})
		if sf := f.Series[s.UID]; sf != nil {
			r.Nodules = len(sf.Annotations)
		}
		if r.Flags == nil {
			r.Flags = []string{}
		}
		rows = append(rows, r)
	}
	code := cli.ExitOK
	if len(problems) > 0 {
		code = cli.ExitData
	}
	if asJSON {
		if problems == nil {
			problems = []store.Problem{}
		}
		patients, _ := countPatients(st.Scans(), f)
		sources := map[string]any{}
		for k, n := range bySource {
			sources[k] = map[string]any{"source": f.Sources[k], "series": n[0], "annotations": n[1]}
		}
		doc := map[string]any{"root": st.Root(), "scans": len(st.Scans()), "patients": len(patients), "annotations": ann,
			"annotations_from":   sources,
			"scans_with_nodules": withNodules, "scans_with_labels": withLabels, "computed_masks": computed,
			"flags": flags, "stored_bytes": u.StoredBytes, "raw_bytes": u.RawBytes, "problems": problems}
		if list {
			doc["scan_list"] = rows
		}
		b, _ := json.MarshalIndent(doc, "", " ")
		fmt.Fprintln(stdout, string(b))
		return code
	}
	r := st.Root()
	fmt.Fprintf(stdout, "store %s (uuid %s, format %s, created %s by %s)\n", storeDir, r.UUID, r.Format, r.Created.Format("2006-01-02 15:04"), r.Tool)
	fmt.Fprintf(stdout, "scans %d: %d with nodules (%d annotations), %d with lung labels (%d computed), %d flagged\n",
		len(st.Scans()), withNodules, ann, withLabels, computed, flagged)
	for _, k := range []string{"annotations", "lidc_reads"} {
		if n, ok := bySource[k]; ok {
			fmt.Fprintf(stdout, "  annotations of %d series (%d nodules) from %s\n", n[0], n[1], clip.String(f.Sources[k], 200))
		}
	}
	if patients, without := countPatients(st.Scans(), f); len(patients) > 0 {
		fmt.Fprintf(stdout, "patients %d (%d scans without a patient id; mine split keeps a patient's scans together)\n", len(patients), without)
	}
	fmt.Fprintf(stdout, "disk %s for %s raw (%.1f×)\n", cli.Bytes(u.StoredBytes), cli.Bytes(u.RawBytes), u.Ratio())
	for _, fl := range flags {
		fmt.Fprintf(stdout, "  FLAG %s\n", fl)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "UNHEALTHY: %d files missing or damaged:\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(stdout, "  %s: %s %s\n", p.UID, p.Path, p.Reason)
		}
		fmt.Fprintf(stdout, "fix: ingest the scans again (ingest --force --src … --out %s), or drop them from the catalog (ingest --repair --out %s)\n", storeDir, storeDir)
	}
	if list {
		fmt.Fprintf(stdout, "\n%-66s %-6s %-16s %7s %7s %-8s", "seriesuid", "subset", "grid z,y,x", "lung L", "nodules", "labels")
		if withProvenance { // DICOM sources: who and which reconstruction
			fmt.Fprintf(stdout, " %-16s %-8s %-10s %-24s", "patient", "date", "kernel", "series")
		}
		fmt.Fprintln(stdout, " flags")
		for _, r := range rows {
			fmt.Fprintf(stdout, "%-66s %-6s %-16s %7.2f %7d %-8s", r.UID, r.Subset, fmt.Sprintf("%d,%d,%d", r.Grid[0], r.Grid[1], r.Grid[2]),
				r.Litres, r.Nodules, r.Labels)
			if withProvenance {
				fmt.Fprintf(stdout, " %-16s %-8s %-10s %-24s", r.PatientID, r.StudyDate, r.Kernel, r.Description)
			}
			fmt.Fprintln(stdout, " "+strings.Join(r.Flags, "; "))
		}
	}
	return code
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

// countPatients returns the distinct patients of the scans (from their
// headers, else from their annotations table) and how many scans have none.
func countPatients(scans []store.ScanInfo, f *store.Findings) (map[string]bool, int) {
	patients := map[string]bool{}
	without := 0
	for _, s := range scans {
		p := s.Source.PatientID
		if sf := f.Series[s.UID]; p == "" && sf != nil {
			p = sf.PatientID
		}
		if p == "" {
			without++
			continue
		}
		patients[p] = true
	}
	return patients, without
}

// infoScan shows one scan in detail (uid may be a unique start of one),
// and draws its picture when asked.
func infoScan(st *store.Store, f *store.Findings, uid, picture string, asJSON bool, stdout, stderr io.Writer) int {
	full, err := st.Resolve(uid) // a unique prefix will do
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitUsage
	}
	uid = full
	info, _ := st.ScanInfo(uid)
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
	if p := info.Source.Provenance; p != (store.Provenance{}) {
		fmt.Fprintf(stdout, "  patient %q, study %s of %s, series %q, kernel %q\n", p.PatientID, p.StudyUID, p.StudyDate, p.Description, p.Kernel)
	}
	for _, fl := range info.Flags {
		fmt.Fprintf(stdout, "  FLAG: %s\n", fl)
	}
	if sf := f.Series[uid]; sf != nil {
		from := ""
		if src := f.Sources[sf.Origin()]; src != "" {
			from = " (annotations from " + src + ")"
		}
		fmt.Fprintf(stdout, "  annotations %d, excluded %d, candidates %d%s\n", len(sf.Annotations), len(sf.Excluded), len(sf.Candidates), from)
		for _, a := range sf.Annotations {
			fmt.Fprintf(stdout, "    nodule %.1f mm at world (%.1f, %.1f, %.1f) → voxel %v\n", a.Diameter, a.X, a.Y, a.Z,
				query.NearestVoxel(g, [3]float64{a.X, a.Y, a.Z}))
		}
	}
	return cli.ExitOK
}
