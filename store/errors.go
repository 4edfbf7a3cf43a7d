package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Errors a caller can act on. Test them with errors.Is; a damaged file is
// reported as a *CorruptionError (errors.As) that wraps ErrChecksum or a
// description of what does not add up.
var (
	// ErrClosed is returned by reads on a Volume or Store after Close.
	ErrClosed = errors.New("store: closed")
	// ErrNotStore means a folder holds no voxmine store.
	ErrNotStore = errors.New("not a voxmine store")
	// ErrNoScan means the catalog has no scan of that series uid.
	ErrNoScan = errors.New("no such scan")
	// ErrChecksum means bytes on disk do not match their CRC-32C.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrBigEndian: decoded chunks are used in place as little-endian
	// integers, so voxmine runs on little-endian hosts only.
	ErrBigEndian = errors.New("store: big-endian hosts are not supported")
)

// CorruptionError says that a file of a stored scan is not what the writer
// wrote: a CRC mismatch, an index that points outside its file, a frame
// that does not decode. Re-ingesting the scan (ingest --force) repairs it;
// other scans are not affected.
type CorruptionError struct {
	Scan  string // series uid
	Array string // "hu", "lung" or "chunks"; empty for the scan as a whole
	// Chunk is the inner chunk (z, y, x), or nil when the damage is not in
	// one chunk (the shard index, metadata).
	Chunk *[3]int
	Path  string // the damaged file, when known
	Err   error  // what is wrong
}

func (e *CorruptionError) Error() string {
	msg := "scan " + e.Scan
	if e.Array != "" {
		msg += ": " + e.Array
	}
	if e.Chunk != nil {
		msg += fmt.Sprintf(" chunk (%d,%d,%d)", e.Chunk[0], e.Chunk[1], e.Chunk[2])
	}
	if e.Path != "" {
		// The scan's files live under scans/<uid>/: name the file from
		// there, so the message names the scan once.
		if i := strings.LastIndex(e.Path, e.Scan+string(filepath.Separator)); e.Scan != "" && i >= 0 {
			msg += " (file " + filepath.ToSlash(e.Path[i+len(e.Scan)+1:]) + " of the scan)"
		} else {
			msg += " (" + e.Path + ")"
		}
	}
	return msg + ": " + e.Err.Error()
}

func (e *CorruptionError) Unwrap() error { return e.Err }
