//go:build !windows

package jsonl

import "os"

// openShared opens path for reading. On Unix a file open in one process
// may be renamed over or removed by another; open_windows.go asks the
// same of Windows.
func openShared(path string) (*os.File, error) { return os.Open(path) }
