package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"voxmine/internal/atomicfile"
	"voxmine/internal/flock"
)

// Array names inside a scan group.
const (
	huArray     = "hu"
	labelArray  = "lung"
	chunksArray = "chunks"
	shardKey    = "c/0/0/0"
)

// WriteOptions tune how scans are written.
type WriteOptions struct {
	// Workers compress chunks in parallel; 0 means GOMAXPROCS.
	Workers int
	// NoShuffle turns the blosc byte shuffle off (it helps int16 CT).
	NoShuffle bool
	// HC uses LZ4-HC: slower to write, a little smaller, as fast to read.
	HC bool
}

// Writer puts scans into a store. Several Writers, in one process or many,
// may write disjoint scans into one store at the same time.
type Writer struct {
	dir    string
	opts   WriteOptions
	host   string
	marker string // the file that says this writer is at work
	// cat is the catalog as Current first read it (other writers add
	// other scans; this writer's own are on disk).
	catOnce sync.Once
	cat     *catalog
	catErr  error
}

// Scan is one volume on the 1 mm grid, ready to store.
type Scan struct {
	// Info must carry UID, Grid, Source and PadHU; the writer fills in the
	// rest (UUID, statistics, counts, time).
	Info ScanInfo
	// HU holds Grid.Voxels() values in z, y, x order (x fastest).
	HU []int16
	// Labels, when not nil, holds the label mask in the same order.
	Labels []uint8
	// Spots, when not nil, are the scan's nodule-like spots (ingest's spot
	// response), stored as the small array "blobs".
	Spots []Spot
	// Check, when set, is called with the scan's record once its label
	// counts are known, before anything is committed; what it returns
	// becomes Info.Flags (ingest uses it to flag implausible lungs without
	// another pass over the labels).
	Check func(info ScanInfo) []string
}

// NewWriter opens the store at dir for writing, creating it if needed, and
// removes temporary directories that crashed writers on this host left.
func NewWriter(dir string, opts WriteOptions) (*Writer, error) {
	if err := Init(dir); err != nil {
		return nil, err
	}
	if err := Migrate(dir); err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	host, _ := os.Hostname()
	w := &Writer{dir: dir, opts: opts, host: sanitize(host)}
	w.cleanTemps()
	// A marker that says a writer is at work, for readers to say so
	// (Store.Writers); Close removes it, and one whose process is gone is
	// passed over.
	w.marker = filepath.Join(dir, fmt.Sprintf("%s%s-%d", writerMarker, w.host, os.Getpid()))
	os.WriteFile(w.marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
	return w, nil
}

// writerMarker starts the name of the file a Writer keeps in the store's
// folder while it is open: .writing-<host>-<pid>.
const writerMarker = ".writing-"

// Close says the writer is done (removes its marker). Nothing is left to
// flush: every Put is committed when it returns.
func (w *Writer) Close() error {
	if w.marker == "" {
		return nil
	}
	w.cat.close()
	err := os.Remove(w.marker)
	w.marker = ""
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Writers describes the writers at work on the store: ingest processes
// that have it open (pid and host, since when). Another host's writer is
// listed as long as its marker is there; one of this host whose process
// is gone (a crash) is not.
func (s *Store) Writers() []string {
	markers, _ := filepath.Glob(filepath.Join(s.dir, writerMarker+"*"))
	host, _ := os.Hostname()
	host = sanitize(host)
	var out []string
	for _, m := range markers {
		rest := strings.TrimPrefix(filepath.Base(m), writerMarker)
		i := strings.LastIndex(rest, "-")
		if i < 0 {
			continue
		}
		h, pidText := rest[:i], rest[i+1:]
		pid, err := strconv.Atoi(pidText)
		if err != nil || (h == host && flock.ProcessGone(pid)) {
			continue
		}
		since, _ := os.ReadFile(m)
		out = append(out, fmt.Sprintf("pid %d on %s since %s", pid, h, strings.TrimSpace(string(since))))
	}
	return out
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '/' || r == '.' {
			return '_'
		}
		return r
	}, s)
}

// cleanTemps removes ".tmp-<host>-<pid>-…" scan directories of this host
// whose process is gone. Directories of live processes, or of other hosts
// sharing the store over a network file system, are left alone.
func (w *Writer) cleanTemps() {
	entries, err := os.ReadDir(filepath.Join(w.dir, scansDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		parts := strings.SplitN(e.Name(), "-", 4)
		if len(parts) < 4 || (parts[0] != ".tmp" && parts[0] != ".old") || parts[1] != w.host {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if flock.ProcessGone(pid) {
			os.RemoveAll(filepath.Join(w.dir, scansDir, e.Name()))
		}
	}
}

// Current reports whether uid is stored with the given source fingerprint,
// which lets an interrupted ingest skip finished scans. The scan's own
// group says what is stored; the catalog, read once per writer, is only
// checked to list it, and a scan stored but not listed (a crash between
// the two) is listed now. So a resumed run costs a read per scan, not a
// read of the whole catalog per scan.
func (w *Writer) Current(uid, fingerprint string) (bool, error) {
	disk, err := readScanGroup(w.dir, uid)
	if err != nil || disk.UID != uid || disk.Source.Fingerprint != fingerprint {
		return false, nil
	}
	w.catOnce.Do(func() { w.cat, w.catErr = openCatalog(w.dir) })
	if w.catErr != nil {
		return false, w.catErr
	}
	listed, ok, err := w.cat.lookup(uid)
	if err != nil {
		return false, err
	}
	if ok && listed.VolumeUUID == disk.VolumeUUID {
		return true, nil
	}
	if err := appendCatalog(w.dir, disk); err != nil {
		return false, fmt.Errorf("scan %s: catalog: %w", uid, err)
	}
	return true, nil
}

// Put compresses and writes a scan, replacing any earlier version
// atomically, then records it in the catalog. It returns the stored info.
func (w *Writer) Put(ctx context.Context, sc *Scan) (ScanInfo, error) {
	info := sc.Info
	if err := validUID(info.UID); err != nil {
		return info, err
	}
	n := info.Grid.Voxels()
	if n <= 0 || len(sc.HU) != n {
		return info, fmt.Errorf("scan %s: %d HU values for a grid of %v", info.UID, len(sc.HU), info.Grid.Shape)
	}
	if sc.Labels != nil && len(sc.Labels) != n {
		return info, fmt.Errorf("scan %s: %d labels for a grid of %v", info.UID, len(sc.Labels), info.Grid.Shape)
	}
	info.VolumeUUID = uuid.NewString()
	info.Ingested = time.Now().UTC()
	info.Tool = ToolVersion
	info.HasLabels = sc.Labels != nil
	if !info.HasLabels {
		info.LabelSource = ""
	}

	tmp := filepath.Join(w.dir, scansDir, fmt.Sprintf(".tmp-%s-%d-%s-%s", w.host, os.Getpid(), uuid.NewString()[:8], info.UID))
	if err := w.writeScanDir(ctx, tmp, sc, &info); err != nil {
		os.RemoveAll(tmp)
		return info, fmt.Errorf("scan %s: %w", info.UID, err)
	}
	if err := w.swapIn(tmp, info.UID); err != nil {
		os.RemoveAll(tmp)
		return info, fmt.Errorf("scan %s: %w", info.UID, err)
	}
	if err := appendCatalog(w.dir, info); err != nil {
		return info, fmt.Errorf("scan %s: catalog: %w", info.UID, err)
	}
	return info, nil
}

// errExchangeUnsupported: the system or file system cannot swap two
// directory entries atomically.
var errExchangeUnsupported = errors.New("atomic exchange not supported")

// swapIn moves the finished directory tmp to scans/<uid>. An existing scan
// is exchanged with it in one atomic step where the system has one (Linux's
// renameat2), so readers see the old scan or the new one; elsewhere the old
// one is moved aside first. The old one is then removed. Mapped files of the
// old scan stay valid until unmapped.
func (w *Writer) swapIn(tmp, uid string) error {
	final := scanDir(w.dir, uid)
	err := os.Rename(tmp, final)
	if err != nil {
		if err2 := exchange(tmp, final); err2 != nil {
			if !errors.Is(err2, errExchangeUnsupported) {
				return fmt.Errorf("replace %s: %w", final, err2)
			}
			// No exchange on this file system: move the old one aside first.
			old := filepath.Join(w.dir, scansDir, fmt.Sprintf(".old-%s-%d-%s-%s", w.host, os.Getpid(), uuid.NewString()[:8], uid))
			if err := os.Rename(final, old); err != nil {
				return err
			}
			if err := os.Rename(tmp, final); err != nil {
				os.Rename(old, final)
				return err
			}
			tmp = old
		}
		os.RemoveAll(tmp) // now the old scan
	}
	return atomicfile.SyncDir(filepath.Join(w.dir, scansDir))
}

// writeScanDir writes a scan's folder at dir, in stages: the labels are
// compressed first (that pass also counts each chunk's labels, and which
// labels exist decides the chunk index's fields), then the HU with their
// statistics, then the record's totals, then the files, each fsynced.
func (w *Writer) writeScanDir(ctx context.Context, dir string, sc *Scan, info *ScanInfo) error {
	g := info.Grid
	chunks := [3]int{chunksAlong(g.Shape[0]), chunksAlong(g.Shape[1]), chunksAlong(g.Shape[2])}
	copts := codecOptions{Shuffle: !w.opts.NoShuffle, HC: w.opts.HC}
	lungShard, perChunk, err := w.encodeLabels(ctx, sc, chunks, copts)
	if err != nil {
		return err
	}
	stats := statsWithLabels(chunks, perChunk)
	huShard, err := encodeShard(ctx, chunks, w.opts.Workers, copts, func(ci int, buf []int16) bool {
		valid := extractChunk(sc.HU, g.Shape, stats, ci, buf, info.PadHU)
		stats.setHU(ci, valid)
		for _, v := range buf {
			if v != info.PadHU {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	setTotals(info, stats, sc.Labels != nil)
	if sc.Check != nil {
		info.Flags = sc.Check(*info)
	}
	info.StoredBytes = shardBytes(huShard) + shardBytes(lungShard)
	return writeFiles(dir, scanFiles(sc, info, chunks, copts, stats, huShard, lungShard))
}

// encodeLabels compresses the label chunks and counts each chunk's
// labels; both are nil for a scan without labels.
func (w *Writer) encodeLabels(ctx context.Context, sc *Scan, chunks [3]int, copts codecOptions) ([][]byte, [][256]int32, error) {
	if sc.Labels == nil {
		return nil, nil, nil
	}
	perChunk := make([][256]int32, chunks[0]*chunks[1]*chunks[2])
	grid := &ChunkStats{Chunks: chunks}
	shard, err := encodeShard(ctx, chunks, w.opts.Workers, copts, func(ci int, buf []uint8) bool {
		valid := extractChunk(sc.Labels, sc.Info.Grid.Shape, grid, ci, buf, 0)
		c := &perChunk[ci]
		for _, v := range valid {
			c[v]++
		}
		return int(c[0]) == len(valid) && allZero(buf)
	})
	return shard, perChunk, err
}

// statsWithLabels makes the chunk index with a count field for each label
// some chunk holds, and fills in the counts.
func statsWithLabels(chunks [3]int, perChunk [][256]int32) *ChunkStats {
	var present [256]bool
	for ci := range perChunk {
		for l, c := range perChunk[ci] {
			if c > 0 {
				present[l] = true
			}
		}
	}
	var labels []uint8
	for l, ok := range present {
		if ok {
			labels = append(labels, uint8(l))
		}
	}
	stats := newChunkStats(chunks, labels)
	for ci := range perChunk {
		stats.setLabels(ci, &perChunk[ci])
	}
	return stats
}

// setTotals sets the record's HU range and label counts from the chunk
// index rather than another pass over the voxels.
func setTotals(info *ScanInfo, stats *ChunkStats, withLabels bool) {
	info.HUMin, info.HUMax = stats.Min(0), stats.Max(0)
	info.LabelCounts, info.LungVoxels = nil, 0
	if withLabels {
		info.LabelCounts = map[string]int64{}
	}
	for ci := range stats.Chunks[0] * stats.Chunks[1] * stats.Chunks[2] {
		info.HUMin, info.HUMax = min(info.HUMin, stats.Min(ci)), max(info.HUMax, stats.Max(ci))
		for _, l := range stats.Labels {
			info.LabelCounts[strconv.Itoa(int(l))] += int64(stats.LabelCount(ci, l))
		}
	}
	if withLabels {
		info.LungVoxels = info.LabelCounts[strconv.Itoa(LabelLungA)] + info.LabelCounts[strconv.Itoa(LabelLungB)]
	}
}

// scanFiles lists the files of a scan's folder: each array's metadata and
// data, the spots, and last the group with the record.
func scanFiles(sc *Scan, info *ScanInfo, chunks [3]int, copts codecOptions, stats *ChunkStats, huShard, lungShard [][]byte) []scanFile {
	g := info.Grid
	shape := []int{g.Shape[0], g.Shape[1], g.Shape[2]}
	outer := []int{roundUp(g.Shape[0]), roundUp(g.Shape[1]), roundUp(g.Shape[2])}
	arrAttrs := mustJSON(map[string]any{"voxmine": map[string]any{"volume_uuid": info.VolumeUUID}})
	files := []scanFile{
		{filepath.Join(huArray, "zarr.json"), arrayMeta{ZarrFormat: 3, NodeType: "array", Shape: shape, DataType: "int16",
			ChunkGrid: regularGrid(outer), ChunkKeyEncoding: defaultKeyEncoding, FillValue: jsonInt(int(info.PadHU)),
			Codecs: shardedCodecs(2, copts.Shuffle), DimensionNames: []string{"z", "y", "x"}, Attributes: arrAttrs}},
		{filepath.Join(huArray, shardKey), huShard},
	}
	if sc.Labels != nil {
		files = append(files,
			scanFile{filepath.Join(labelArray, "zarr.json"), arrayMeta{ZarrFormat: 3, NodeType: "array", Shape: shape, DataType: "uint8",
				ChunkGrid: regularGrid(outer), ChunkKeyEncoding: defaultKeyEncoding, FillValue: "0",
				Codecs: shardedCodecs(1, copts.Shuffle), DimensionNames: []string{"z", "y", "x"}, Attributes: arrAttrs}},
			scanFile{filepath.Join(labelArray, shardKey), lungShard})
	}
	sshape := []int{chunks[0], chunks[1], chunks[2], len(stats.Fields)}
	files = append(files,
		scanFile{filepath.Join(chunksArray, "zarr.json"), arrayMeta{ZarrFormat: 3, NodeType: "array", Shape: sshape, DataType: "float32",
			ChunkGrid: regularGrid(sshape), ChunkKeyEncoding: defaultKeyEncoding, FillValue: "0", Codecs: plainCodecs,
			DimensionNames: []string{"cz", "cy", "cx", "field"},
			Attributes: mustJSON(map[string]any{"voxmine": map[string]any{
				"volume_uuid": info.VolumeUUID, "fields": stats.Fields, "labels": stats.Labels, "chunk_size": ChunkSize}})}},
		scanFile{filepath.Join(chunksArray, "c/0/0/0/0"), encodeFloat32s(stats.data)},
	)
	if sc.Spots != nil {
		bshape := []int{len(sc.Spots), spotFields}
		files = append(files,
			scanFile{filepath.Join(spotsArray, "zarr.json"), arrayMeta{ZarrFormat: 3, NodeType: "array", Shape: bshape, DataType: "float32",
				ChunkGrid: regularGrid([]int{max(1, len(sc.Spots)), spotFields}), ChunkKeyEncoding: defaultKeyEncoding, FillValue: "0", Codecs: plainCodecs,
				DimensionNames: []string{"blob", "field"},
				Attributes:     mustJSON(map[string]any{"voxmine": map[string]any{"volume_uuid": info.VolumeUUID, "fields": []string{"z", "y", "x", "response_hu"}}})}},
			scanFile{filepath.Join(spotsArray, "c/0/0"), encodeSpots(sc.Spots)})
	}
	return append(files, scanFile{"zarr.json", groupMeta{ZarrFormat: 3, NodeType: "group", Attributes: mustJSON(map[string]any{"voxmine": info})}})
}

// writeFiles writes the files under dir, each fsynced, then flushes every
// directory entry, before the scan becomes visible.
func writeFiles(dir string, files []scanFile) error {
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		var err error
		switch d := f.data.(type) {
		case []byte:
			err = syncWrite(p, func(w io.Writer) error { _, err := w.Write(d); return err })
		case [][]byte:
			err = syncWrite(p, func(w io.Writer) error { return writeShard(w, d) })
		default:
			err = syncWriteJSON(p, f.data)
		}
		if err != nil {
			return err
		}
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return atomicfile.SyncDir(p)
	})
}

// shardBytes is the size of the shard file writeShard makes of chunks.
func shardBytes(chunks [][]byte) int64 {
	if chunks == nil {
		return 0
	}
	n := int64(shardIndexSize(len(chunks)))
	for _, c := range chunks {
		n += int64(len(c))
	}
	return n
}

// scanFile is one file of a scan directory: raw bytes or a value written
// as JSON.
type scanFile struct {
	path string
	data any
}

func allZero(b []uint8) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// extractChunk copies chunk ci of a z,y,x volume into buf (32³, voxels
// outside the volume set to fill) and returns the chunk's voxels that lie
// inside the volume: buf itself for a full chunk, a packed copy for a
// chunk at the far edge.
func extractChunk[T int16 | uint8](vol []T, shape [3]int, st *ChunkStats, ci int, buf []T, fill T) []T {
	cz, cy, cx := st.Coords(ci)
	z0, y0, x0 := cz*ChunkSize, cy*ChunkSize, cx*ChunkSize
	nz, ny, nx := min(ChunkSize, shape[0]-z0), min(ChunkSize, shape[1]-y0), min(ChunkSize, shape[2]-x0)
	full := nz == ChunkSize && ny == ChunkSize && nx == ChunkSize
	if !full {
		for i := range buf {
			buf[i] = fill
		}
	}
	for z := range nz {
		for y := range ny {
			src := ((z0+z)*shape[1]+y0+y)*shape[2] + x0
			copy(buf[(z*ChunkSize+y)*ChunkSize:][:nx], vol[src:src+nx])
		}
	}
	if full {
		return buf
	}
	valid := make([]T, 0, nz*ny*nx)
	for z := range nz {
		for y := range ny {
			valid = append(valid, buf[(z*ChunkSize+y)*ChunkSize:][:nx]...)
		}
	}
	return valid
}

// syncWrite creates a new file with what fill writes and flushes it to disk.
func syncWrite(path string, fill func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncWriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return syncWrite(path, func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}
