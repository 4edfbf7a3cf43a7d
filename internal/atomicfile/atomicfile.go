// Package atomicfile writes files so that a reader, or a process that starts
// after a crash, sees either the old content or the new, never a part.
//
// The recipe is the one bbolt and Prometheus TSDB use: write a temporary
// file in the same directory, fsync it, rename it over the target, fsync the
// directory. A rename never touches the old file's pages, so memory maps of
// the old file stay valid.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// File is a file being written under a temporary name. Commit makes it
// visible under its final name; Abort (safe after Commit) removes it.
type File struct {
	*os.File
	target string
	done   bool
}

// Create starts writing path. The temporary file sits beside it, named so
// that voxmine's readers never take it for data (it starts with ".tmp-").
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// Not os.CreateTemp: it makes the file private (0600), and the result
	// is data others read (a shared store, patches for a training job).
	// Created 0644, the process's umask applies as for any other file,
	// with no chmod afterwards (a system call per patch saved).
	for try := 0; ; try++ {
		name := filepath.Join(dir, fmt.Sprintf(".tmp-%s-%016x", base, rand.Uint64()))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &File{File: f, target: path}, nil
	}
}

// Commit flushes the file to stable storage, renames it into place and
// flushes the directory entry.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("atomicfile: %s already committed or aborted", f.target)
	}
	if err := f.File.Sync(); err != nil {
		f.Abort()
		return err
	}
	if err := f.CommitNoSync(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(f.target))
}

// Abort removes the temporary file. It does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write creates path atomically with what fill writes.
func Write(path string, fill func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// SyncDir fsyncs a directory so that renames and creations inside it
// survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// CommitNoSync renames the file into place without flushing it to disk
// first: after a process crash the file is whole or absent; after a power
// loss it may be empty. Use it for many small files and sync the folder at
// the end.
func (f *File) CommitNoSync() error {
	if f.done {
		return fmt.Errorf("atomicfile: %s already committed or aborted", f.target)
	}
	f.done = true
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	if err := os.Rename(f.File.Name(), f.target); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return nil
}
