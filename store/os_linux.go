package store

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps two directory entries in one atomic step
// (renameat2 with RENAME_EXCHANGE), so a reader opening scans/<uid> finds
// the old scan or the new one, never neither. It returns
// errExchangeUnsupported where the file system cannot do it.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return errExchangeUnsupported
	}
	return err
}
