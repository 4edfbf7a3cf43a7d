//go:build windows

package jsonl

import (
	"os"
	"syscall"
)

// openShared opens path for reading so that other processes may still
// rename or delete it while it is open, as they may on Unix: a writer
// folds the catalog by renaming a new table over the one readers hold.
// Go's os.Open leaves out FILE_SHARE_DELETE, which makes that rename
// fail on Windows while any reader has the table open.
func openShared(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	const share = syscall.FILE_SHARE_READ | syscall.FILE_SHARE_WRITE | syscall.FILE_SHARE_DELETE
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ, share, nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
