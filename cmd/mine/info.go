package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
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
  mine info --store store/ --csv > scans.csv  # every scan as a table: patient, study, kernel, spacing, lungs, findings
  mine info --store store/ --one-per-study > uids.txt   # then: mine negatives --uids uids.txt …
  mine info --store store/ --check            # look at every file of every scan, however large the store
  mine info --store store/ --uid 1.3.6.1.4.1.14519.5.2.1.6279.6001.17904   # a unique start of a uid will do
  mine info --store store/ --uid 1.3.6… --json
  mine info --store store/ --uid 1.3.6… --picture lungs.png   # check a lung mask by eye
`

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var storeDir, uid, picture string
	var asJSON, list, csvOut, check, onePerStudy bool
	var lungKernels string
	fs := flagSet("info", infoHelp, stdout, stderr)
	fs.StringVar(&storeDir, "store", "", "the voxmine store")
	fs.StringVar(&uid, "uid", "", "show one scan in detail")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.BoolVar(&list, "scans", false, "list the scans: uid, subset, grid, lung litres, nodules, flags")
	fs.BoolVar(&csvOut, "csv", false, "write the table of every scan as CSV to stdout (for pandas, DuckDB, a spreadsheet)")
	fs.BoolVar(&onePerStudy, "one-per-study", false, "print one series uid per study (a lung kernel, then the thinnest slices, then the lowest uid), for --uids")
	fs.StringVar(&lungKernels, "lung-kernels", mine.LungKernels.String(), "with --one-per-study: the kernels to prefer, a regular expression")
	fs.BoolVar(&check, "check", false, "look at every file of every scan (the default up to 20,000 scans; beyond, the scan folders only)")
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
	if onePerStudy {
		return printOnePerStudy(st, lungKernels, stdout, stderr)
	}
	if uid != "" {
		f, err := st.FindingsWithCandidates()
		if err != nil {
			fmt.Fprintf(stderr, "mine info: %v\n", err)
			return cli.ExitData
		}
		return infoScan(st, f, uid, picture, asJSON, stdout, stderr)
	}
	r, err := gatherInfo(st, list || csvOut, check)
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitData
	}
	code := cli.ExitOK
	if len(r.problems) > 0 {
		code = cli.ExitData
	}
	switch {
	case csvOut:
		err = mine.WriteScanTable(stdout, st, r.findings)
	case asJSON:
		err = r.printJSON(st, list, stdout)
	default:
		err = r.printText(st, storeDir, list, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitData
	}
	return code
}

// storeInfo is what `mine info` says of a store as a whole. It comes
// from the catalog's and the findings' headers, so it costs the same at
// any store size; only the scan list reads every record.
type storeInfo struct {
	sum      store.Summary
	findings *store.Findings // the counts, or every series' findings for a list
	usage    store.Usage
	flags    []string // "uid: flag", sorted
	patients int
	without  int             // scans without a patient id
	problems []store.Problem // files missing or damaged
	full     bool            // every file was looked at, not only the folders
}

func gatherInfo(st *store.Store, list, check bool) (*storeInfo, error) {
	r := &storeInfo{}
	var err error
	if r.sum, err = st.Summary(); err != nil {
		return nil, err
	}
	if list {
		r.findings, err = st.Findings()
	} else {
		r.findings, err = st.FindingsOf(nil, false)
	}
	if err != nil {
		return nil, err
	}
	if r.usage, err = st.DiskUsage(); err != nil {
		return nil, err
	}
	for uid, fl := range r.sum.Flagged {
		for _, x := range fl {
			r.flags = append(r.flags, uid+": "+x)
		}
	}
	sort.Strings(r.flags)
	if r.patients, r.without, err = countPatients(st, r.sum, r.findings); err != nil {
		return nil, err
	}
	// Every file of every scan is looked at (a stat each) up to
	// fullCheckScans scans or with --check; beyond, the scan folders.
	r.full = check || r.sum.Scans <= fullCheckScans
	if r.full {
		r.problems, err = st.Check()
	} else {
		r.problems, err = st.CheckFolders()
	}
	return r, err
}

func (r *storeInfo) printJSON(st *store.Store, list bool, stdout io.Writer) error {
	c := r.findings.Counts
	problems, flags := r.problems, r.flags
	if problems == nil {
		problems = []store.Problem{}
	}
	if flags == nil {
		flags = []string{}
	}
	sources := map[string]any{}
	for k, n := range c.From {
		sources[k] = map[string]any{"source": r.findings.Sources[k], "series": n[0], "annotations": n[1]}
	}
	doc := map[string]any{"root": st.Root(), "scans": r.sum.Scans, "patients": r.patients, "annotations": c.Annotations,
		"annotations_from":   sources,
		"scans_with_nodules": c.WithNodules, "scans_with_labels": r.sum.WithLabels, "computed_masks": r.sum.Computed,
		"flags": flags, "stored_bytes": r.usage.StoredBytes, "raw_bytes": r.usage.RawBytes, "problems": problems, "checked_every_file": r.full}
	if list {
		rows, err := scanRows(st, r.findings)
		if err != nil {
			return err
		}
		doc["scan_list"] = rows
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}

func (r *storeInfo) printText(st *store.Store, storeDir string, list bool, stdout io.Writer) error {
	c, root := r.findings.Counts, st.Root()
	fmt.Fprintf(stdout, "store %s (uuid %s, format %s, created %s by %s)\n", storeDir, root.UUID, root.Format, root.Created.Format("2006-01-02 15:04"), root.Tool)
	fmt.Fprintf(stdout, "scans %d: %d with nodules (%d annotations), %d with lung labels (%d computed), %d flagged\n",
		r.sum.Scans, c.WithNodules, c.Annotations, r.sum.WithLabels, r.sum.Computed, len(r.sum.Flagged))
	for _, k := range []string{"annotations", "lidc_reads"} {
		if n, ok := c.From[k]; ok {
			fmt.Fprintf(stdout, "  annotations of %d series (%d nodules) from %s\n", n[0], n[1], clip.String(r.findings.Sources[k], 200))
		}
	}
	if r.patients > 0 {
		fmt.Fprintf(stdout, "patients %d (%d scans without a patient id; mine split keeps a patient's scans together)\n", r.patients, r.without)
	}
	fmt.Fprintf(stdout, "disk %s for %s raw (%.1f×)\n", cli.Bytes(r.usage.StoredBytes), cli.Bytes(r.usage.RawBytes), r.usage.Ratio())
	for i, fl := range r.flags {
		if i == maxFlagLines && !list {
			fmt.Fprintf(stdout, "  … and %d more flags (mine info --scans lists every scan with its flags)\n", len(r.flags)-i)
			break
		}
		fmt.Fprintf(stdout, "  FLAG %s\n", fl)
	}
	if !r.full {
		fmt.Fprintf(stdout, "checked: every scan folder is there (mine info --check looks at every file of the %d scans)\n", r.sum.Scans)
	}
	if len(r.problems) > 0 {
		fmt.Fprintf(stdout, "UNHEALTHY: %d files missing or damaged:\n", len(r.problems))
		for _, p := range r.problems {
			fmt.Fprintf(stdout, "  %s: %s %s\n", p.UID, p.Path, p.Reason)
		}
		fmt.Fprintf(stdout, "fix: ingest the scans again (ingest --force --src … --out %s), or drop them from the catalog (ingest --repair --out %s)\n", storeDir, storeDir)
	}
	if list {
		return printScanList(st, r.findings, stdout)
	}
	return nil
}

// infoRow is a scan's row of the --scans list.
type infoRow struct {
	UID     string   `json:"seriesuid"`
	Subset  string   `json:"subset"`
	Grid    [3]int   `json:"grid_zyx"`
	Litres  float64  `json:"lung_litres"`
	Nodules int      `json:"nodules"`
	Labels  string   `json:"label_source"`
	Flags   []string `json:"flags"`
	store.Provenance
}

func rowOf(s store.ScanInfo, f *store.Findings) infoRow {
	r := infoRow{UID: s.UID, Subset: mine.SubsetOf(s.Source.Path), Grid: s.Grid.Shape, Litres: float64(s.LungVoxels) / 1e6, Labels: string(s.LabelSource), Flags: s.Flags,
		Provenance: s.Source.Provenance}
	if sf := f.Of(s.UID); sf != nil {
		r.Nodules = len(sf.Annotations)
	}
	if r.Flags == nil {
		r.Flags = []string{}
	}
	return r
}

func scanRows(st *store.Store, f *store.Findings) ([]infoRow, error) {
	var rows []infoRow
	err := st.Each(func(s store.ScanInfo) error {
		rows = append(rows, rowOf(s, f))
		return nil
	})
	return rows, err
}

// printScanList prints the --scans list, a row per scan as the catalog
// gives them; DICOM sources add who and which reconstruction.
func printScanList(st *store.Store, f *store.Findings, stdout io.Writer) error {
	rows, err := scanRows(st, f)
	if err != nil {
		return err
	}
	withProvenance := false
	for _, r := range rows {
		withProvenance = withProvenance || r.Provenance != (store.Provenance{})
	}
	fmt.Fprintf(stdout, "\n%-66s %-6s %-16s %7s %7s %-8s", "seriesuid", "subset", "grid z,y,x", "lung L", "nodules", "labels")
	if withProvenance {
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
	return nil
}

// fullCheckScans is the largest store whose every file `mine info` looks
// at by default: some 0.3 s of stats. Beyond, it checks the scan folders
// (one directory read) and --check does the rest.
const fullCheckScans = 20000

// maxFlagLines is how many flags the summary prints before it counts the
// rest.
const maxFlagLines = 50

// countPatients returns how many distinct patients the store's scans are
// of (from their headers, else from their annotations table) and how many
// scans have none. The catalog's summary counts the headers' patients;
// the table's few are looked up.
func countPatients(st *store.Store, sum store.Summary, f *store.Findings) (int, int, error) {
	patients := len(sum.Patients)
	without := sum.NoPatient
	extra := map[string]bool{}
	for uid, p := range f.Counts.Patients {
		info, ok, err := st.Lookup(uid)
		if err != nil {
			return 0, 0, err
		}
		if !ok || info.Source.PatientID != "" {
			continue
		}
		without--
		if _, known := sum.Patients[p]; !known && !extra[p] {
			extra[p] = true
			patients++
		}
	}
	return patients, without, nil
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
	info, _, err := st.Lookup(uid)
	if err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitData
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

// writePicture draws a scan's lung picture into path, atomically.
func writePicture(st *store.Store, uid, path string) error {
	v, err := st.OpenVolume(uid)
	if err != nil {
		return err
	}
	defer v.Close()
	return atomicfile.Write(path, func(w io.Writer) error { return mine.LungPicture(v, w) })
}

// printOnePerStudy prints the uid of one series per study, for --uids.
func printOnePerStudy(st *store.Store, lungKernels string, stdout, stderr io.Writer) int {
	re, err := regexp.Compile(lungKernels)
	if err != nil {
		fmt.Fprintf(stderr, "mine info: --lung-kernels: %v\n", err)
		return cli.ExitUsage
	}
	picker := mine.NewStudyPicker(re)
	if err := st.Each(func(s store.ScanInfo) error { picker.Add(s); return nil }); err != nil {
		fmt.Fprintf(stderr, "mine info: %v\n", err)
		return cli.ExitData
	}
	picked, left := picker.Picked()
	for _, u := range picked {
		fmt.Fprintln(stdout, u)
	}
	fmt.Fprintf(stderr, "mine info: %d series of %d studies kept, %d other reconstructions left out\n", len(picked), len(picked), left)
	return cli.ExitOK
}
