//go:build unix

package flock

import (
	"os"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive advisory lock on f, waiting for it. flock works
// across processes on one host and on network file systems that support
// it (docs/SCALING.md).
func Lock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

// TryLock takes an exclusive advisory lock on f without waiting; it
// reports false when another process holds it.
func TryLock(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == unix.EWOULDBLOCK {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases f's lock (closing f does too).
func Unlock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// ProcessGone reports whether no process with this pid exists on this
// host (so what it left can go).
func ProcessGone(pid int) bool { return unix.Kill(pid, 0) == unix.ESRCH }
