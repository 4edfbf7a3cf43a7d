package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"voxmine/ingest/lungseg"
	"voxmine/ingest/resample"
	"voxmine/ingest/source"
	"voxmine/internal/clip"
	"voxmine/internal/workpool"
	"voxmine/store"
	"voxmine/store/grid"
	"voxmine/store/spots"
)

// LungSource says where a scan's lung labels come from. (mine.LungMode,
// not to be confused with it, says how a miner tests for lung.)
type LungSource string

// Where lung labels come from.
const (
	LungSourceAuto    LungSource = "auto"    // a mask file where present, else compute
	LungSourceMasks   LungSource = "masks"   // mask files only
	LungSourceCompute LungSource = "compute" // always segment
	LungSourceNone    LungSource = "none"    // no labels
)

// Status is how a scan's ingest ended.
type Status string

// Scan outcomes.
const (
	Ingested Status = "ingested" // read and stored
	Skipped  Status = "skipped"  // already stored from unchanged files
	Failed   Status = "failed"   // not stored; the error says why
)

// Options configure Run.
type Options struct {
	Sources []string
	// Formats are the scan formats to look for, offered every file in
	// order; empty means DefaultFormats.
	Formats []source.Format
	// StoreDir is the store to write into (created if missing).
	StoreDir string
	// MaskDir holds seg-lungs-LUNA16 style masks.
	MaskDir string
	// CSV files; empty means none.
	Annotations, Excluded, Candidates string
	// FindCSVs takes LUNA16's CSVs from a source folder when they are not
	// named: annotations.csv, annotations_excluded.csv (also under
	// evaluationScript/) and candidates_V2.csv or candidates.csv.
	FindCSVs bool
	// LIDCConsensus is K: LIDC-IDRI XML reads found beside DICOM series give
	// the annotations (clusters marked by at least K readers, one of them
	// as a nodule of 3 mm or more) and excluded findings, when no
	// annotations CSV is given. 0 means LUNA16's 3; −1 ignores the reads.
	LIDCConsensus int
	Workers       int
	PadHU         int16
	// MaxVoxels is the per-scan budget: the most voxels a scan's source
	// grid or its 1 mm grid may hold (0: DefaultMaxVoxels). It is checked
	// against the header before any voxel is allocated, so a file whose
	// numbers ask for more (a hostile or broken header, a spacing of
	// 100 mm) fails alone instead of taking the run down.
	MaxVoxels int64
	// Collect runs Go's garbage collector after each scan's big stages
	// (the source array, the mask file's copy, the scan's arrays): a
	// worker's peak then stays near one scan's worth instead of the two
	// that Go's default pacing allows (the arrays hold no pointers, so a
	// collection is quick). The command sets it; a program that embeds
	// ingest and manages its own memory may not want it.
	Collect bool
	Lung    LungSource
	// Shard, of Shards, picks this process's share of the scans.
	Shard, Shards int
	// UIDs, when not empty, are the only series ingested (those of an
	// annotations table, of a split); the rest are found but left alone.
	UIDs  []string
	Force bool
	// CompareMasks reports Dice between computed masks and mask files.
	CompareMasks bool
	// Progress is called after each scan with the running counts.
	Progress func(p Progress)
	// Planned, when set, is called once what is to be done is known and
	// before any scan is read: the report's discovery part (scans per
	// folder, masks, CSV rows and series matched) is filled in.
	Planned func(r *Report)
	// Write tunes compression; its Workers default to the cores left per scan.
	Write store.WriteOptions
}

// Progress is the state of a run after a scan.
type Progress struct {
	Done, Total int
	Last        ScanResult
}

// Timing splits one scan's ingest into its stages. Mask is the lung
// labels (read or computed); Spots is the search for nodule-like spots.
type Timing struct {
	Read, Resample, Mask, Spots, Write time.Duration
}

// Total is the sum of the stages.
func (t Timing) Total() time.Duration { return t.Read + t.Resample + t.Mask + t.Spots + t.Write }

// ScanResult is the outcome for one scan.
type ScanResult struct {
	UID     string
	Path    string
	Status  Status
	Err     error
	Timing  Timing
	Voxels  int // on the 1 mm grid
	RawSize int64
	// Dice against the mask file, when CompareMasks computed both.
	Dice  float64
	Flags []string
	// Fallback says what the scan got instead of what was asked (a mask
	// computed because --masks held none for it), empty when nothing fell
	// back.
	Fallback string
}

// Report sums up a run.
type Report struct {
	// Mapped counts the scans discovered below the sources, MasksFound
	// those with a mask file, Selected those this run (or shard) takes.
	// ("Found" alone means one thing in voxmine: what a format's Find
	// returns, source.Found.)
	Mapped, MasksFound, Selected int
	// MaskDir is the mask folder used (named, or found in a source).
	MaskDir     string
	Results     []ScanResult
	FindingRows map[string]int
	// Unmatched counts the CSV rows of series that are not among the scans
	// found; Series and SeriesMatched count each CSV's series, and those
	// among the scans found.
	Unmatched, Series, SeriesMatched map[string]int
	// PerFolder counts the scans found in each folder.
	PerFolder map[string]int
	// Skipped lists the files and series the formats recognised and left
	// out (a localizer, another modality, a broken header), with why.
	Skipped []source.Skipped
	// Duplicates lists scans whose uid an earlier file already had.
	Duplicates []string
	// ReadSeries counts the series whose findings came from LIDC XML reads.
	ReadSeries int
	// FoundCSVs are the CSVs taken from the sources because none was named
	// (by kind: annotations, excluded, candidates).
	FoundCSVs map[string]string
	// CSVNotes say how a CSV not in LUNA16's layout was read.
	CSVNotes []string
	// Outside lists the findings that lie outside their scan (voxel
	// coordinates written as world ones, a row of another series), by file
	// and row: mining cannot use them.
	Outside []string
	// NotFound are the series Options.UIDs asked for that no source holds.
	NotFound []string
	Elapsed  time.Duration
}

// Failed returns the failed scans.
func (r *Report) Failed() []ScanResult {
	var out []ScanResult
	for _, s := range r.Results {
		if s.Status == Failed {
			out = append(out, s)
		}
	}
	return out
}

// Count returns how many scans ended with status.
func (r *Report) Count(status Status) int {
	n := 0
	for _, s := range r.Results {
		if s.Status == status {
			n++
		}
	}
	return n
}

// ShardOf returns the shard (0…n−1) a series belongs to: a hash of the
// uid, so the split does not depend on file order or on which files exist.
func ShardOf(uid string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(uid))
	return int(h.Sum64() % uint64(n))
}

// Run ingests every scan found under the sources into the store. One bad
// scan does not stop the others: its error is in the report. Run returns
// an error only for problems that concern the whole run.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	if o.Shard < 0 || o.Shard >= o.Shards {
		return nil, fmt.Errorf("shard %d/%d: the index must be in 0…%d", o.Shard, o.Shards, o.Shards-1)
	}
	if o.Lung == "" {
		o.Lung = LungSourceAuto
	}
	switch o.Lung {
	case LungSourceAuto, LungSourceMasks, LungSourceCompute, LungSourceNone:
	default:
		return nil, fmt.Errorf("lung mode %q: want auto, masks, compute or none", o.Lung)
	}
	for _, s := range o.Sources {
		if st, err := os.Stat(s); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("source %s is not a folder", s)
		}
	}
	if o.MaskDir == "" && o.Lung != LungSourceNone && o.Lung != LungSourceCompute {
		// LUNA16 ships its masks as seg-lungs-LUNA16 beside the subsets:
		// use that folder when it sits in a source and none was named.
		for _, src := range o.Sources {
			if st, err := os.Stat(filepath.Join(src, "seg-lungs-LUNA16")); err == nil && st.IsDir() {
				o.MaskDir = filepath.Join(src, "seg-lungs-LUNA16")
				break
			}
		}
	}
	found := o.findCSVs()
	disc, err := Discover(ctx, o.Sources, o.MaskDir, o.Formats)
	if err != nil {
		return nil, err
	}
	if len(disc.Scans) == 0 {
		why := ""
		if len(disc.Skipped) > 0 {
			why = fmt.Sprintf("; %d files were skipped: %s", len(disc.Skipped), skipSummary(disc.Skipped))
		}
		if n := len(disc.Unread); n > 0 {
			why += fmt.Sprintf("; %d files are of no format voxmine reads (e.g. %s)", n, filepath.Base(disc.Unread[0]))
		}
		return nil, fmt.Errorf("no scans found below %s (formats read: MetaImage .mhd/.mha, DICOM, NIfTI .nii/.nii.gz)%s", strings.Join(o.Sources, ", "), why)
	}
	rep := &Report{Mapped: len(disc.Scans), MasksFound: disc.Masks, MaskDir: o.MaskDir, Skipped: disc.Skipped, Duplicates: disc.Duplicates, FoundCSVs: found,
		FindingRows: map[string]int{}, Unmatched: map[string]int{}, Series: map[string]int{}, SeriesMatched: map[string]int{}, PerFolder: map[string]int{}}
	findings, err := o.readCSVs(rep)
	if err != nil {
		return nil, err
	}
	if k := o.LIDCConsensus; k >= 0 && o.Annotations == "" && len(disc.Reads) > 0 {
		if k == 0 {
			k = 3
		}
		n, bad := addReads(ctx, disc.Reads, disc.Scans, k, findings)
		rep.Skipped = append(rep.Skipped, bad...)
		rep.ReadSeries = n
		if n > 0 {
			findings.Sources["lidc_reads"] = fmt.Sprintf("LIDC XML reads of %d series, consensus K = %d", n, k)
		}
	}
	known := map[string]bool{}
	for _, s := range disc.Scans {
		known[s.UID] = true
	}
	rep.match(findings, known)
	for _, s := range disc.Scans {
		rep.PerFolder[filepath.Dir(s.Path())]++
	}
	w, err := store.NewWriter(o.StoreDir, o.writeOptions())
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if len(findings.Sources) > 0 {
		// Keep only this shard's series so that concurrent shards write
		// disjoint parts; unmatched series go with shard 0.
		owns := func(uid string) bool { return ShardOf(uid, o.Shards) == o.Shard }
		if err := w.SetFindings(findings, owns); err != nil {
			return nil, err
		}
	}
	only := map[string]bool{}
	for _, u := range o.UIDs {
		only[u] = true
	}
	var todo []Discovered
	for _, s := range disc.Scans {
		if ShardOf(s.UID, o.Shards) == o.Shard && (len(only) == 0 || only[s.UID]) {
			todo = append(todo, s)
		}
		delete(only, s.UID)
	}
	for u := range only {
		rep.NotFound = append(rep.NotFound, u)
	}
	sort.Strings(rep.NotFound)
	rep.Selected = len(todo)
	if o.Planned != nil {
		o.Planned(rep)
	}
	inner := max(1, runtime.GOMAXPROCS(0)/o.Workers)
	results := make([]ScanResult, len(todo))
	// Progress is reported from one goroutine, in the order scans finish,
	// and never while a lock is held: a slow display does not stall the
	// workers beyond the channel's slack.
	finished := make(chan ScanResult, o.Workers)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		done := 0
		for res := range finished {
			done++
			if o.Progress != nil {
				o.Progress(Progress{Done: done, Total: len(todo), Last: res})
			}
		}
	}()
	// Scans fail one by one (their error is in their result), so the pool
	// stops only when ctx does.
	workpool.Run(ctx, len(todo), o.Workers, func(i int) error {
		res := ingestOne(ctx, w, todo[i], o, inner)
		results[i] = res
		finished <- res
		return nil
	})
	close(finished)
	<-reported
	for _, r := range results {
		if r.UID != "" {
			rep.Results = append(rep.Results, r)
		}
	}
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].UID < rep.Results[j].UID })
	if len(findings.Sources) > 0 {
		rep.Outside = outsideFindings(o, findings)
	}
	rep.Elapsed = time.Since(start)
	return rep, ctx.Err()
}

// outsideFindings checks the run's findings against the stored scans'
// grids and returns one line for each that lies outside its scan.
func outsideFindings(o Options, f *store.Findings) []string {
	st, err := store.Open(o.StoreDir)
	if err != nil {
		return nil
	}
	defer st.Close()
	files := map[string]string{"annotations": o.Annotations, "excluded": o.Excluded}
	var out []string
	for _, uid := range slices.Sorted(maps.Keys(f.Series)) {
		info, ok, err := st.Lookup(uid)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		if !ok {
			continue
		}
		sf := f.Series[uid]
		for _, part := range []struct {
			kind string
			list []store.Finding
		}{{"annotations", sf.Annotations}, {"excluded", sf.Excluded}} {
			for i, x := range part.list {
				w := [3]float64{x.X, x.Y, x.Z}
				if info.Grid.Contains(w) {
					continue
				}
				where := files[part.kind]
				if where == "" {
					where = "LIDC reads"
				}
				if x.Row > 0 {
					where = fmt.Sprintf("%s:%d", where, x.Row)
				}
				idx := info.Grid.Index(w)
				out = append(out, fmt.Sprintf("%s: %s %d of series %s at (%.1f, %.1f, %.1f) mm lies outside its scan (voxel %.0f, %.0f, %.0f of a %v grid): voxel coordinates written as world ones, or a row of another series?",
					where, part.kind, i, clip.String(uid, 80), x.X, x.Y, x.Z, idx[0], idx[1], idx[2], info.Grid.Shape))
			}
		}
	}
	return out
}

// writeOptions returns the store write options with the compression
// workers shared out among the scans in flight.
func (o Options) writeOptions() store.WriteOptions {
	wo := o.Write
	if wo.Workers == 0 {
		wo.Workers = max(1, runtime.GOMAXPROCS(0)/max(1, o.Workers))
	}
	return wo
}

// voxelFormat is the version of the stored voxels that fingerprints name:
// "1.0" since the first store. Format 2.0 changed the catalog, not the
// voxels, so a store migrated to it keeps its scans current.
const voxelFormat = "1.0"

// Fingerprint identifies a scan's source files and the settings that shape
// its stored volume. It uses names, sizes and modification times, not the
// content, so checking 888 scans for changes costs 888 stats. The files are
// the scan's, as its format's Info lists them, and the mask's.
func Fingerprint(s Discovered, o Options, info *source.Info) string {
	sum := sha256.New()
	fmt.Fprintf(sum, "format=%s pad=%d lung=%s\n", voxelFormat, o.PadHU, o.Lung)
	files := slices.Clone(s.Files)
	if info != nil {
		files = slices.Clone(info.Files)
	}
	// The mask's header comes second, as it always has: a fingerprint
	// must not change for a store written by an earlier voxmine.
	files = slices.Insert(files, min(1, len(files)), maskPath(s))
	for _, p := range files {
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(sum, "%s missing\n", filepath.Base(p))
			continue
		}
		fmt.Fprintf(sum, "%s %d %d\n", filepath.Base(p), st.Size(), st.ModTime().UnixNano())
	}
	return hex.EncodeToString(sum.Sum(nil)[:16])
}

// maskPath is the file that names a scan's mask, or "".
func maskPath(s Discovered) string {
	if s.Mask == nil {
		return ""
	}
	return s.Mask.Path()
}

func (o Options) collect() {
	if o.Collect {
		runtime.GC()
	}
}

// DefaultMaxVoxels is the default per-scan voxel budget: 512 Mi voxels,
// 1 GiB of int16 for one grid. A chest CT of 1,000 slices of 512² at
// 0.7 mm holds 262 Mi voxels as stored and about 95 Mi on the 1 mm grid;
// ingest keeps about three grids of a scan in memory at once per worker
// (source, 1 mm HU, labels and the segmentation's buffers), so the budget
// bounds a worker at about 3 GiB.
const DefaultMaxVoxels = 512 << 20

// BudgetError is a scan whose grid is larger than the per-scan budget.
type BudgetError struct {
	What   string // "source grid" or "1 mm grid"
	Shape  [3]int
	Voxels int64
	Budget int64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("the %s would hold %d voxels (%d×%d×%d), over the per-scan budget of %d (--max-voxels)",
		e.What, e.Voxels, e.Shape[0], e.Shape[1], e.Shape[2], e.Budget)
}

// checkBudget refuses a scan whose source or 1 mm grid is over budget,
// before either is allocated.
func checkBudget(src grid.Geometry, budget int64) error {
	if budget <= 0 {
		budget = DefaultMaxVoxels
	}
	for _, g := range []struct {
		what string
		g    grid.Geometry
	}{{"source grid", src}, {"1 mm grid", resample.Grid1mm(src)}} {
		n := int64(1)
		for _, d := range g.g.Shape {
			if d <= 0 {
				return fmt.Errorf("the %s has shape %v", g.what, g.g.Shape)
			}
			n *= int64(d)
			if n > budget {
				break // no overflow: stop as soon as it is over
			}
		}
		if n > budget {
			return &BudgetError{What: g.what, Shape: g.g.Shape, Voxels: voxelCount(g.g.Shape), Budget: budget}
		}
	}
	return nil
}

func voxelCount(s [3]int) int64 {
	f := float64(s[0]) * float64(s[1]) * float64(s[2])
	if f > 9e18 {
		return -1
	}
	return int64(s[0]) * int64(s[1]) * int64(s[2])
}

func ingestOne(ctx context.Context, w *store.Writer, s Discovered, o Options, workers int) (res ScanResult) {
	res = ScanResult{UID: s.UID, Path: s.Path(), Status: Failed}
	defer func() {
		if p := recover(); p != nil { // a bug must not take the other 887 scans down
			res.Status, res.Err = Failed, fmt.Errorf("%s: internal error: %v\n%s", s.Path(), p, debug.Stack())
		}
	}()
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	hdr, err := s.format.Info(ctx, s.Scan)
	if err != nil {
		res.Err = err
		return res
	}
	if err := checkBudget(hdr.Geometry, o.MaxVoxels); err != nil {
		res.Err = fmt.Errorf("%s: %w", s.Path(), err)
		return res
	}
	fp := Fingerprint(s, o, hdr)
	if !o.Force {
		if ok, err := w.Current(s.UID, fp); err == nil && ok {
			res.Status = Skipped
			return res
		}
	}
	t0 := time.Now()
	h, hu, err := s.format.ReadCT(ctx, s.Scan)
	if err != nil {
		res.Err = err
		return res
	}
	res.RawSize = int64(len(hu)) * 2
	src := h.Geometry
	grid := resample.Grid1mm(src)
	t1 := time.Now()
	res.Timing.Read = t1.Sub(t0)
	vol, err := resample.Linear(ctx, hu, src, grid, o.PadHU, workers)
	if err != nil {
		res.Err = fmt.Errorf("%s: %w", s.Path(), err)
		return res
	}
	// Let the source go before the mask is made: a collection now keeps the
	// peak near one scan's worth per worker instead of the two that Go's
	// default GC pacing would allow (the big arrays hold no pointers, so it
	// is quick).
	hu = nil
	o.collect()
	t2 := time.Now()
	res.Timing.Resample = t2.Sub(t1)
	res.Voxels = len(vol)

	lab, err := lungLabels(ctx, s, o, src, grid, vol, workers, &res)
	labels, labelSource := lab.labels, lab.source
	if err != nil {
		res.Err = err
		return res
	}
	o.collect() // the mask file's source-resolution copy is garbage now
	tb := time.Now()
	res.Timing.Mask = tb.Sub(t2)
	var blobs []store.Spot
	if labels != nil {
		// the nodule-like spots hard negatives are drawn from
		if blobs, err = spots.Find(ctx, vol, labels, grid.Shape, workers); err != nil {
			res.Err = err
			return res
		}
	}
	t3 := time.Now()
	res.Timing.Spots = t3.Sub(tb)

	info := store.ScanInfo{
		UID: s.UID, Grid: grid, PadHU: o.PadHU, LabelSource: labelSource,
		Source: store.Source{Format: s.Format, Path: abs(s.Path()), MaskPath: abs(maskPath(s)), Geometry: src, ElementType: h.ElementType, Fingerprint: fp, Provenance: store.Provenance(h.Provenance)},
	}
	if len(blobs) == 0 {
		blobs = nil
	}
	stored, err := w.Put(ctx, &store.Scan{Info: info, HU: vol, Labels: labels, Spots: blobs, Check: func(i store.ScanInfo) []string {
		flags := slices.Clone(h.Notes) // what the reader did, such as evening out slices
		switch {
		case lab.source == store.LabelsComputed:
			flags = append(flags, lab.flags...)
		case i.HasLabels:
			flags = append(flags, lungseg.PlausibilityFlags(labels, grid.Shape)...)
		}
		return flags
	}})
	if err != nil {
		res.Err = err
		return res
	}
	res.Flags = stored.Flags
	res.Timing.Write = time.Since(t3)
	res.Status = Ingested
	o.collect() // this scan's arrays are garbage: free them before the next source arrives
	return res
}

func abs(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// scanLabels are a scan's labels on the 1 mm grid, where they came from
// (store.LabelsFromFile or store.LabelsComputed), and the computed mask's
// flags.
type scanLabels struct {
	labels []uint8
	source store.LabelSource
	flags  []string
}

// lungLabels returns the scan's labels according to the lung mode.
func lungLabels(ctx context.Context, s Discovered, o Options, src, grid store.Geometry, vol []int16, workers int, res *ScanResult) (scanLabels, error) {
	var fromFile []uint8
	if s.Mask != nil && o.Lung != LungSourceNone && (o.Lung != LungSourceCompute || o.CompareMasks) {
		mh, m, err := s.maskFormat.ReadLabels(ctx, *s.Mask)
		if err != nil {
			return scanLabels{}, fmt.Errorf("mask: %w", err)
		}
		if err := sameGeometry(src, mh.Geometry); err != nil {
			return scanLabels{}, fmt.Errorf("mask %s does not fit scan %s: %w", s.Mask.Path(), s.Path(), err)
		}
		if fromFile, err = resample.Nearest(ctx, m, src, grid, workers); err != nil {
			return scanLabels{}, fmt.Errorf("mask %s: %w", s.Mask.Path(), err)
		}
	}
	switch {
	case o.Lung == LungSourceNone:
		return scanLabels{}, nil
	case o.Lung == LungSourceMasks && fromFile == nil:
		// Asked for a mask file: without one the scan would be stored
		// without labels, and mining would fall back to the HU test.
		return scanLabels{}, fmt.Errorf("no mask for this scan in %s (--lung masks)%s", o.MaskDir, nearMask(s))
	case o.Lung == LungSourceMasks || (o.Lung == LungSourceAuto && fromFile != nil):
		if o.CompareMasks {
			computed, err := lungseg.Segment(ctx, vol, grid, workers)
			if err != nil {
				return scanLabels{}, err
			}
			res.Dice = lungseg.Dice(computed.Labels, fromFile)
		}
		return scanLabels{labels: fromFile, source: store.LabelsFromFile}, nil
	default:
		computed, err := lungseg.Segment(ctx, vol, grid, workers)
		if err != nil {
			return scanLabels{}, err
		}
		if o.Lung == LungSourceAuto && o.MaskDir != "" && s.Mask == nil {
			res.Fallback = fmt.Sprintf("no mask in %s: lungs computed%s", o.MaskDir, nearMask(s))
		}
		if fromFile != nil && o.CompareMasks {
			res.Dice = lungseg.Dice(computed.Labels, fromFile)
		}
		return scanLabels{labels: computed.Labels, source: store.LabelsComputed, flags: computed.Flags}, nil
	}
}

// sameGeometry checks that a mask lies on its scan's grid. Spacings and
// origins are compared with a tolerance: LUNA16 stores some as float32.
func sameGeometry(a, b store.Geometry) error {
	if a.Shape != b.Shape {
		return fmt.Errorf("size %v, scan %v", b.Shape, a.Shape)
	}
	for i := range 3 {
		if math.Abs(a.Spacing[i]-b.Spacing[i]) > 1e-4*math.Max(1, a.Spacing[i]) {
			return fmt.Errorf("spacing %v, scan %v", b.Spacing, a.Spacing)
		}
		if math.Abs(a.Origin[i]-b.Origin[i]) > 1e-3 {
			return fmt.Errorf("origin %v, scan %v", b.Origin, a.Origin)
		}
	}
	for i := range 9 {
		if math.Abs(a.Direction[i]-b.Direction[i]) > 1e-6 {
			return fmt.Errorf("direction %v, scan %v", b.Direction, a.Direction)
		}
	}
	return nil
}

// nearMask names the mask file whose name nearly matches the scan's uid
// (a suffix, a digit or two off), as ", the nearest is NAME", or "".
func nearMask(s Discovered) string {
	if s.nearMask == "" {
		return ""
	}
	return ", though " + s.nearMask + " nearly matches its uid"
}

// skipSummary counts skipped files by reason, most common first, each
// with an example: "3 × not a CT (e.g. a.dcm); 1 × …".
func skipSummary(skipped []source.Skipped) string {
	type group struct {
		reason, example string
		n               int
	}
	var groups []*group
	by := map[string]*group{}
	for _, s := range skipped {
		g := by[s.Reason]
		if g == nil {
			g = &group{reason: s.Reason, example: s.Path}
			by[s.Reason] = g
			groups = append(groups, g)
		}
		g.n++
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].n > groups[j].n })
	parts := make([]string, 0, 4)
	for i, g := range groups {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d other reasons", len(groups)-4))
			break
		}
		parts = append(parts, fmt.Sprintf("%d × %s (e.g. %s)", g.n, clip.String(g.reason, 200), filepath.Base(g.example)))
	}
	return strings.Join(parts, "; ")
}
