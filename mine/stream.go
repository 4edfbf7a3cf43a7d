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
	"math/rand/v2"
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

// streamed is one cut sample waiting for its turn in the stream.
type streamed struct {
	key    string
	cube   []byte // the whole .npy file
	labels []byte // the labels' .npy file, or nil
	row    []byte // the JSON row
}

// orderedStream writes the scans' samples to a tar stream in the run's
// scan order, whatever order the workers finish them in. A worker that
// runs ahead by more than window scans waits, so memory stays bounded by
// the samples of about window scans.
type orderedStream struct {
	tw      *tar.Writer
	window  int
	mu      sync.Mutex
	cond    *sync.Cond
	next    int
	pending map[int][]streamed
	err     error
	bytes   int64
}

func newOrderedStream(w io.Writer, window int) *orderedStream {
	s := &orderedStream{tw: tar.NewWriter(w), window: max(1, window), pending: map[int][]streamed{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// put hands over scan i's samples (none for a skipped or failed scan: every
// scan must be put once, so later ones can follow). It waits while i is
// more than window scans ahead of the stream, and returns the stream's
// error (a closed pipe: the reader went away) or ctx's.
func (s *orderedStream) put(ctx context.Context, i int, samples []streamed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.err == nil && i-s.next > s.window && ctx.Err() == nil {
		s.cond.Wait()
	}
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.pending[i] = samples
	for {
		batch, ok := s.pending[s.next]
		if !ok {
			break
		}
		delete(s.pending, s.next)
		for _, x := range batch {
			if s.err = s.writeSample(x); s.err != nil {
				break
			}
		}
		s.next++
		if s.err != nil {
			break
		}
	}
	s.cond.Broadcast()
	return s.err
}

// wake lets waiting workers see that ctx is done.
func (s *orderedStream) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *orderedStream) writeSample(x streamed) error {
	if err := s.member(x.key+".npy", x.cube); err != nil {
		return err
	}
	if x.labels != nil {
		if err := s.member(x.key+".labels.npy", x.labels); err != nil {
			return err
		}
	}
	return s.member(x.key+".json", x.row)
}

func (s *orderedStream) member(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: streamEpoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := s.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := s.tw.Write(data)
	s.bytes += int64(len(data))
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
var textColumns = map[string]bool{"seriesuid": true, "patch_file": true, "subset": true, "kind": true, "orient": true, "hardness_kind": true}

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
	for _, k := range sortedKeys(extra) {
		field(k, extra[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func isSpecial(f float64) bool { return f != f || f > 1e308 || f < -1e308 }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// streamBatch cuts one scan's samples for the stream and makes their rows.
func streamBatch(ctx context.Context, v *store.Volume, samples []Sample, o Output, win *Window, columns []string) ([]streamed, error) {
	cubes, labels, err := cutToMemory(ctx, v, samples, o, win)
	if err != nil {
		return nil, err
	}
	out := make([]streamed, len(samples))
	for i, s := range samples {
		key := SampleKey(s.File)
		extra := map[string]any{"epoch": o.Epoch, "key": key}
		if o.Share.N > 1 {
			extra["part"] = fmt.Sprintf("%d/%d", o.Share.I, o.Share.N)
		}
		out[i] = streamed{key: key, cube: cubes[i], row: rowJSON(columns, append([]string{key + ".npy"}, s.Row...), extra)}
		if labels != nil {
			out[i].labels = labels[i]
		}
	}
	return out, nil
}
