package mine

// The run: the one path every kind of patch takes, in stages.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"voxmine/internal/atomicfile"
	"voxmine/internal/workpool"
	"voxmine/store"
)

// run is the one extraction-and-writing path every kind uses: sample every
// scan (in parallel, each scan independently), order the samples by scan
// and draw, cut and write each patch, then the index, the pack, the
// preview and run.json. k.findings serve the kind and the nodule masks.
func run(ctx context.Context, st *store.Store, o Output, k kind, params any) (*Result, error) {
	r := &runner{st: st, o: o, k: k, params: params, start: time.Now()}
	defer r.cleanup()
	if err := r.prepare(); err != nil {
		return nil, err
	}
	if err := r.cutAll(ctx); err != nil {
		return nil, err
	}
	if err := k.findings.Err(); err != nil {
		return nil, err // a scan would have lost its findings unsaid
	}
	return r.finish(r.tally())
}

// runner holds one run's state from stage to stage.
type runner struct {
	st     *store.Store
	o      Output
	k      kind
	params any
	start  time.Time
	win    *Window
	res    *Result

	scans []string // the uids of the scans this run (or share) visits, in order

	stream *orderedStream // the tar stream, or nil for .npy files
	shards *shardFiles    // with --format tar
	undo   []func()       // what cleanup runs: the folder's lock, an unfinished shard

	// Per scan: its samples, why there are none or too few, why it failed,
	// and what run.json says of it.
	perScan  [][]Sample // kept only for a pack or a preview, once cut
	counts   []int      // patches cut
	rows     [][]byte   // the index rows (indexRows), in a run that writes files
	reasons  []string
	failures []error
	used     []usedScan
	// unlabelled counts the scans visited that have no lung labels.
	unlabelled int
}

func (r *runner) cleanup() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// prepare checks the settings and takes the output: a wrong list of uids
// or an unwritable preview fail before anything is written, and a second
// run into the same folder fails before it removes anything of the
// first's. It picks the scans and the index columns.
func (r *runner) prepare() error {
	o := r.o
	var err error
	if r.win, err = o.validate(); err != nil {
		return err
	}
	chosen, err := o.chosen(r.st)
	if err != nil {
		return err
	}
	if o.Preview != "" {
		f, err := os.CreateTemp(filepath.Dir(o.Preview), ".tmp-probe-*")
		if err != nil {
			return fmt.Errorf("preview %s cannot be written: %w", o.Preview, err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	if o.Stream == nil {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return err
		}
		unlock, err := lockOutput(o.Dir, o.CommandLine)
		if err != nil {
			return err
		}
		r.undo = append(r.undo, unlock)
		if err := prepareDir(o.Dir, o.Overwrite); err != nil {
			return err
		}
	}
	r.res = &Result{RunUUID: uuid.NewString()}
	if ws := r.st.Writers(); len(ws) > 0 {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("an ingest is writing this store (%s): scans it has not finished are not mined", strings.Join(ws, "; ")))
	}
	if r.k.findings.Counts.Series == 0 {
		r.res.Warnings = append(r.res.Warnings, "the store holds no findings (ingest was given no annotations CSV and found no LIDC reads): negatives avoid nothing and may sit on nodules, and there are no positives")
	}
	for _, s := range chosen {
		if r.k.scans == nil || r.k.scans(s) {
			r.scans = append(r.scans, s)
		}
	}
	if o.Shuffle {
		shuffleScans(r.scans, o.ShuffleSeed)
	}
	if !o.Share.whole() {
		var part []string
		for i, s := range r.scans {
			if i%o.Share.N == o.Share.I {
				part = append(part, s)
			}
		}
		r.scans = part
	}
	// Every index ends in subset: LUNA16's official fold, from the subsetN
	// folder the scan came from (empty elsewhere).
	r.k.columns = append(append([]string(nil), r.k.columns...), "subset")
	if o.Orient == "lps" {
		r.k.columns = append(r.k.columns, "orient")
	}
	if o.Augment.On() {
		r.k.columns = append(r.k.columns, AugmentColumns...)
	}
	if o.NoduleMask {
		r.k.columns = append(r.k.columns, "nodule_mask")
	}
	switch {
	case o.Stream != nil:
		r.stream = newOrderedStream(o.Stream, streamBudget)
	case o.ShardSize > 0:
		r.shards = &shardFiles{dir: o.Dir}
		r.undo = append(r.undo, r.shards.abort)
		if r.stream, err = newShardedStream(r.shards, o.ShardSize, streamBudget); err != nil {
			return err
		}
	}
	return nil
}

// finishRow appends the run's own columns to a sample's index row, and
// draws its augmentation.
func (r *runner) finishRow(s *Sample, info store.ScanInfo, masks *noduleMask) {
	o := r.o
	s.Row = append(s.Row, SubsetOf(info.Source.Path))
	if o.Orient == "lps" {
		s.Row = append(s.Row, "lps")
	}
	if o.Augment.On() {
		s.aug = o.Augment.draw(ScanRand(o.AugmentSeed, s.File, "augment"))
		s.Row = append(s.Row, s.aug.row()...)
	}
	if masks != nil {
		s.Row = append(s.Row, masks.kind)
	}
}

// channels are the uint8 cubes written beside each patch of a scan.
func (r *runner) channels(v *store.Volume, masks *noduleMask) []channel {
	var cs []channel
	if r.o.Labels {
		cs = append(cs, channel{"labels.npy", func(b store.Box, dst []uint8) error { return v.ReadLabels(b, 0, dst) }})
	}
	if masks != nil {
		cs = append(cs, channel{"nodule.npy", masks.read})
	}
	return cs
}

// cutAll samples and cuts every scan. Each worker takes whole scans: it
// maps the scan once, draws its samples, and cuts them while its chunks
// are hot in the cache. A scan that cannot be read fails alone; the run
// stops only when ctx does or a stream's reader goes away.
func (r *runner) cutAll(ctx context.Context) error {
	o, scans := r.o, r.scans
	r.perScan = make([][]Sample, len(scans))
	r.reasons = make([]string, len(scans))
	r.failures = make([]error, len(scans))
	r.used = make([]usedScan, len(scans))
	r.counts = make([]int, len(scans))
	r.rows = make([][]byte, len(scans))
	keepSamples := o.Pack || o.Preview != ""
	if r.stream != nil {
		defer context.AfterFunc(ctx, r.stream.wake)()
	}
	rowColumns := append([]string{"patch_file"}, r.k.columns...)
	var mu sync.Mutex
	// Progress is reported from one goroutine as scans finish, never under
	// a lock.
	finished := make(chan struct{}, o.Workers)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		done := 0
		for range finished {
			done++
			if o.Progress != nil {
				o.Progress(done, len(scans))
			}
		}
	}()
	err := workpool.Run(ctx, len(scans), o.Workers, func(i int) error {
		t0 := time.Now()
		var masks *noduleMask
		v, err := r.st.OpenVolume(scans[i])
		if err != nil {
			r.failures[i] = err // a scan that cannot be opened fails alone
		} else {
			defer v.Close()
			info := v.Info()
			r.used[i] = usedOf(info)
			if !info.HasLabels {
				mu.Lock()
				r.unlabelled++
				mu.Unlock()
			}
			if o.NoduleMask {
				masks = newNoduleMask(info, r.k.findings.Of(info.UID))
			}
			r.perScan[i], r.reasons[i], r.failures[i] = r.k.sample(ctx, v, info)
			for j := range r.perScan[i] {
				r.finishRow(&r.perScan[i][j], info, masks)
			}
		}
		t1 := time.Now()
		if r.failures[i] == nil {
			if r.stream == nil {
				r.failures[i] = cutScan(ctx, v, r.perScan[i], o, r.win)
			} else {
				r.failures[i] = streamScan(ctx, v, r.perScan[i], o, r.win, rowColumns, r.channels(v, masks), r.stream, i)
			}
		}
		if r.stream != nil {
			// Every scan is done once, failed or not, so the next has its turn.
			if n := r.stream.done(i, r.failures[i] != nil); r.failures[i] != nil && n > 0 {
				r.failures[i] = fmt.Errorf("%w (%d of its %d patches had been streamed before)", r.failures[i], n, len(r.perScan[i]))
			}
			if err := r.stream.failure(ctx); err != nil {
				return err // the reader went away, or the run was stopped
			}
		}
		if r.failures[i] != nil {
			// A scan whose data cannot be read loses its patches, not the run.
			if r.stream == nil {
				for _, s := range r.perScan[i] {
					os.Remove(filepath.Join(o.Dir, s.File))
				}
			}
			r.perScan[i] = nil
		}
		r.counts[i] = len(r.perScan[i])
		if r.stream == nil {
			r.rows[i] = indexRows(r.perScan[i])
		}
		if !keepSamples {
			r.perScan[i] = nil
		}
		mu.Lock()
		r.res.Sampling += t1.Sub(t0)
		r.res.Writing += time.Since(t1)
		mu.Unlock()
		finished <- struct{}{}
		return nil
	})
	close(finished)
	<-reported
	return err
}

// tally sorts the scans into used, skipped, failed and short, and returns
// the samples in index order when the run keeps them (for a pack or a
// preview).
func (r *runner) tally() []Sample {
	res, k := r.res, r.k
	var all []Sample
	res.Shortfalls = append(res.Shortfalls, k.short...)
	res.Warnings = append(res.Warnings, k.warnings...)
	for _, s := range k.short {
		res.Asked += s.Asked
	}
	if k.unlabelled != nil && r.unlabelled > 0 {
		res.Warnings = append(res.Warnings, k.unlabelled(r.unlabelled))
	}
	for i, uid := range r.scans {
		asked := 0
		if k.asked != nil {
			asked = k.asked(uid)
			res.Asked += asked
		}
		switch {
		case r.failures[i] != nil:
			res.Failed = append(res.Failed, Skip{uid, r.failures[i].Error(), failureKind(r.failures[i])})
		case r.counts[i] == 0:
			res.Skipped = append(res.Skipped, Skip{UID: uid, Reason: r.reasons[i]})
		default:
			res.Scans++
			res.Patches += r.counts[i]
			res.used = append(res.used, r.used[i])
			all = append(all, r.perScan[i]...)
			if got := r.counts[i]; r.reasons[i] != "" || got < asked {
				res.Shortfalls = append(res.Shortfalls, Shortfall{UID: uid, Asked: asked, Got: got, Reason: r.reasons[i]})
			}
		}
	}
	if res.Patches == 0 && len(r.scans) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("no patch was cut: every one of the %d scans was skipped or failed (reasons listed)", len(r.scans)))
	} else if len(r.scans) == 0 {
		res.Warnings = append(res.Warnings, "no patch was cut: no scan of the store (or of --uids) is of the kind this run mines")
	}
	return all
}

// finish ends the stream or the shards, or writes the index, the pack and
// the preview, then run.json (but for a stream, which writes no file).
func (r *runner) finish(all []Sample) (*Result, error) {
	o, res := r.o, r.res
	if r.stream != nil {
		if err := r.stream.close(); err != nil {
			return nil, err
		}
		res.Streamed = r.stream.bytes
		if r.shards == nil {
			res.Elapsed = time.Since(r.start)
			return res, nil
		}
		if err := r.shards.commit(); err != nil {
			return nil, err
		}
		res.Shards = r.shards.paths
	} else {
		res.Index = filepath.Join(o.Dir, r.k.index)
		if err := writeIndex(res.Index, r.k.columns, r.rows); err != nil {
			return nil, err
		}
		if o.Pack {
			res.Pack = filepath.Join(o.Dir, "patches.npy")
			if err := writePack(res.Pack, o, all); err != nil {
				return nil, err
			}
		}
		if o.Preview != "" {
			var preview []previewTile
			for _, j := range previewPicks(all, 64) {
				t, err := tileFromFile(j, all[j], o, r.win)
				if err != nil {
					return nil, err
				}
				preview = append(preview, t)
			}
			if err := writePreview(o.Preview, preview, o.Size); err != nil {
				return nil, fmt.Errorf("preview %s: %w", o.Preview, err)
			}
			res.Preview = o.Preview
		}
	}
	if err := atomicfile.SyncDir(o.Dir); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(r.start)
	res.RunJSON = filepath.Join(o.Dir, "run.json")
	return res, writeRunJSON(res.RunJSON, r.st, r.k.name, o, r.params, res)
}
