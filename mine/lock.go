package mine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"voxmine/internal/flock"
)

// lockName is the file in an output folder that a run holds locked while
// it writes there. Two runs into one folder would mix their patches with
// one run's index; the second fails at once and names the first.
const lockName = ".voxmine-run.lock"

// ErrOutputBusy is returned when another run is writing to the folder.
var ErrOutputBusy = errors.New("another mine run is writing to this folder")

// lockOutput locks dir for this run and returns the function that
// releases it. The lock is the kernel's (flock, LockFileEx), so a run that
// dies leaves no stale lock; the file keeps the holder's pid and command
// for the message.
func lockOutput(dir string, commandLine []string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: lock: %w", dir, err)
	}
	ok, err := flock.TryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("output folder %s: lock: %w", dir, err)
	}
	if !ok {
		holder, _ := io.ReadAll(io.LimitReader(f, 512))
		f.Close()
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "another process"
		}
		return nil, fmt.Errorf("output folder %s: %w (%s)", dir, ErrOutputBusy, who)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d: %s\n", os.Getpid(), strings.Join(commandLine, " "))
	return func() {
		f.Close() // closing releases the lock
		os.Remove(filepath.Join(dir, lockName))
	}, nil
}
