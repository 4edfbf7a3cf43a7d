package mine

// Streaming: a run's patches written as a tar stream instead of files, for
// a training loop that reads them as they are cut (python/voxmine).

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"voxmine/store"
)

// The stream is a POSIX tar laid out as WebDataset lays out a shard: the
// members of one sample share a key, the member name up to its first dot,
// and follow each other. A sample is
//
//	KEY.npy         the cube, the same bytes a file run writes
//	KEY.labels.npy  its lung labels (uint8), when Output.Labels is set
//	KEY.json        its index row: every column, numbers as numbers
//
// Series uids are full of dots, so a key is the patch's file name with its
// dots turned into underscores; the row keeps the real uid.

// streamEpoch is the modification time of every member: a fixed time, so
// that the same run gives the same bytes.
var streamEpoch = time.Unix(0, 0)

// SampleKey is the WebDataset key of a patch file name: the name without
// ".npy", its dots replaced by underscores.
func SampleKey(file string) string {
	return strings.ReplaceAll(strings.TrimSuffix(file, ".npy"), ".", "_")
}

// EpochSeed is the seed of one epoch of a stream: the seed itself for
// epoch 0 (so epoch 0 draws what a file run with that seed draws), a hash
// of the seed and the epoch otherwise. Each epoch draws new centres,
// copies and jitter, reproducibly.
func EpochSeed(seed uint64, epoch int) uint64 {
	if epoch == 0 {
		return seed
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "epoch %d seed %d", epoch, seed)
	return h.Sum64()
}

// Share selects one of n disjoint shares of a run: the scans at positions
// i, i+n, i+2n… of the run's order. Each scan's draws depend only on the
// seed and its uid (and, for a dataset, the whole run's counts), so the n
// parts together hold exactly the samples of the whole run: one part per
// DataLoader worker and DDP rank.
type Share struct{ I, N int }

// ParseShare reads "i/n" (0 ≤ i < n).
func ParseShare(s string) (Share, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Share{}, fmt.Errorf("share %q: want i/n with 0 ≤ i < n", s)
	}
	return Share{i, n}, nil
}

func (p Share) whole() bool { return p.N <= 1 }

// shuffleScans puts the scans of a run in an order drawn from the seed, so
// that a stream does not visit them in the store's order every epoch.
func shuffleScans[T any](s []T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x5ca9))
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// streamed is one cut sample on its way into the stream.
type streamed struct {
	key   string
	cube  []byte   // the whole .npy file
	extra []member // the channels' .npy files (labels, nodule mask)
	row   []byte   // the JSON row
}

// member is one more file of a sample: KEY.name.
type member struct {
	name string
	data []byte
}

func (x streamed) size() int64 {
	n := int64(len(x.cube) + len(x.row))
	for _, m := range x.extra {
		n += int64(len(m.data))
	}
	return n
}

// orderedStream writes the run's samples to a tar stream scan after scan,
// in the run's scan order, whatever order the workers finish in. The
// worker of the scan whose turn it is writes each sample as it is cut; a
// worker that runs ahead keeps its samples until its scan's turn, up to
// budget bytes in all, and then waits. So memory stays bounded by the
// budget, not by the samples of the scans in flight (128 cubes of 64³ are
// 64 MiB a scan).
type orderedStream struct {
	tw      *tar.Writer
	budget  int64
	mu      sync.Mutex
	cond    *sync.Cond
	next    int // the scan whose turn it is
	pending map[int]*aheadScan
	held    int64 // bytes held by workers ahead
	err     error
	bytes   int64
	written map[int]int // samples written per scan
	// With shards: the size at which a new shard begins (at a sample's
	// end), the bytes in the current one, and where the next comes from.
	shardSize int64
	inShard   int64
	nextShard func() (io.Writer, error)
	free      sync.Pool // *[]byte: buffers written, to cut into again
}

// buffer returns an empty buffer of capacity n or more, one already
// written when there is one: a stream of thousands of cubes then makes
// little garbage (mine runs with GOGC 400, so garbage is costly in RSS).
func (s *orderedStream) buffer(n int) []byte {
	if p, ok := s.free.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, n)
}

func (s *orderedStream) recycle(b []byte) {
	if b != nil {
		s.free.Put(&b)
	}
}

// aheadScan is what a worker ahead of the stream holds.
type aheadScan struct {
	samples []streamed
	done    bool
}

// newShardedStream is an orderedStream into size-capped tar shards.
func newShardedStream(sf *shardFiles, size, budget int64) (*orderedStream, error) {
	w, err := sf.next()
	if err != nil {
		return nil, err
	}
	s := newOrderedStream(w, budget)
	s.shardSize, s.nextShard = size, sf.next
	return s, nil
}

func newOrderedStream(w io.Writer, budget int64) *orderedStream {
	s := &orderedStream{tw: tar.NewWriter(w), budget: budget, pending: map[int]*aheadScan{}, written: map[int]int{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// add hands over one sample of scan i. It writes it when it is i's turn,
// holds it when there is room in the budget, and waits otherwise. It
// returns the stream's error (a closed pipe: the reader went away) or
// ctx's.
func (s *orderedStream) add(ctx context.Context, i int, x streamed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.err != nil {
			return s.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if i == s.next {
			s.write(i, x)
			return s.err
		}
		if s.held+x.size() <= s.budget {
			a := s.ahead(i)
			a.samples = append(a.samples, x)
			s.held += x.size()
			return nil
		}
		s.cond.Wait()
	}
}

func (s *orderedStream) ahead(i int) *aheadScan {
	a := s.pending[i]
	if a == nil {
		a = &aheadScan{}
		s.pending[i] = a
	}
	return a
}

// done says scan i has no more samples. A scan that failed passes failed:
// the samples it holds are dropped (those already written stay written;
// written tells how many). Every scan must be done once, so that the next
// can have its turn.
func (s *orderedStream) done(i int, failed bool) (written int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.ahead(i)
	a.done = true
	if failed {
		for _, x := range a.samples {
			s.held -= x.size()
		}
		a.samples = nil
	}
	// Hand the turn on: flush each following scan's held samples, and stop
	// at the first that is still being cut (its worker now writes directly).
	for s.err == nil {
		a := s.pending[s.next]
		if a == nil {
			break
		}
		for _, x := range a.samples {
			s.held -= x.size()
			s.write(s.next, x)
		}
		a.samples = nil
		if !a.done {
			break
		}
		delete(s.pending, s.next)
		s.next++
	}
	s.cond.Broadcast()
	return s.written[i]
}

// wake lets waiting workers see that ctx is done.
func (s *orderedStream) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// write writes one sample; s.mu is held.
func (s *orderedStream) write(i int, x streamed) {
	if s.err != nil {
		return
	}
	// A full shard is closed when the next sample comes, so that no shard
	// is left empty at the end.
	if s.nextShard != nil && s.inShard >= s.shardSize {
		if s.err = s.tw.Close(); s.err != nil {
			return
		}
		var w io.Writer
		if w, s.err = s.nextShard(); s.err != nil {
			return
		}
		s.tw, s.inShard = tar.NewWriter(w), 0
	}
	if s.err = s.member(x.key+".npy", x.cube); s.err != nil {
		return
	}
	for _, m := range x.extra {
		if s.err = s.member(x.key+"."+m.name, m.data); s.err != nil {
			return
		}
	}
	if s.err = s.member(x.key+".json", x.row); s.err == nil {
		s.written[i]++
	}

	s.recycle(x.cube)
	for _, m := range x.extra {
		s.recycle(m.data)
	}
}

func (s *orderedStream) member(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: streamEpoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := s.tw.Write(data)
	s.bytes += int64(len(data))
	s.inShard += 512 + int64(len(data)+511)/512*512
	return err
}

// close ends the tar stream (two zero blocks).
func (s *orderedStream) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return s.tw.Close()
}

// textColumns stay strings in a JSON row even when they look like numbers.
var textColumns = map[string]bool{"seriesuid": true, "patch_file": true, "subset": true, "kind": true, "orient": true, "drawn": true,
	"aug_flip": true, "aug_rot90": true, "aug_matrix": true, "nodule_mask": true}

// rowJSON is a sample's index row as one JSON object, keys in column
// order: a value that parses as a number is written as one, an empty
// value as null, the rest as strings. The stream's own fields follow.
func rowJSON(columns, values []string, extra map[string]any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(k string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	for i, c := range columns {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		switch f, err := strconv.ParseFloat(v, 64); {
		case v == "" && textColumns[c]:
			field(c, "")
		case v == "":
			field(c, nil)
		case !textColumns[c] && err == nil && !strings.ContainsAny(v, "xXpP_") && !isSpecial(f):
			field(c, json.Number(v))
		default:
			field(c, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		field(k, extra[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func isSpecial(f float64) bool { return f != f || f > 1e308 || f < -1e308 }

// streamScan cuts one scan's samples in chunk order and hands each to the
// stream with its row as it is cut.
func streamScan(ctx context.Context, v *store.Volume, samples []Sample, o Output, win *Window, columns []string, channels []channel, s *orderedStream, i int) error {
	return cutEach(ctx, v, samples, o, win, channels, s.buffer, func(j int, cube []byte, extra [][]byte) error {
		key := SampleKey(samples[j].File)
		fields := map[string]any{"epoch": o.Epoch, "key": key}
		if o.Share.N > 1 {
			fields["part"] = fmt.Sprintf("%d/%d", o.Share.I, o.Share.N)
		}
		row := rowJSON(columns, append([]string{key + ".npy"}, samples[j].Row...), fields)
		x := streamed{key: key, cube: cube, row: row}
		for k, c := range channels {
			x.extra = append(x.extra, member{c.suffix, extra[k]})
		}
		return s.add(ctx, i, x)
	})
}

// streamBudget is how many bytes of samples the workers ahead of a stream
// may hold in all: 32 MiB, 64 cubes of 64³ float16.
const streamBudget = 32 << 20

// failure returns the error that ends the whole run, if any: the stream's
// (a closed pipe) or ctx's.
func (s *orderedStream) failure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return ctx.Err()
}
