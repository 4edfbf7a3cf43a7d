//go:build unix

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive advisory lock on f, waiting for it. flock
// works across processes on one host and on network file systems that
// support it (docs/SCALING.md).
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// processGone reports whether no process with this pid exists on this host
// (so its temporary files can go).
func processGone(pid int) bool { return unix.Kill(pid, 0) == unix.ESRCH }
