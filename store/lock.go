package store

import (
	"fmt"
	"os"
	"path/filepath"

	"voxmine/internal/flock"
)

// withLock runs fn while holding an exclusive advisory lock on the store,
// so that concurrent ingest processes serialise their catalog updates.
func withLock(dir string, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("store %s: lock: %w", dir, err)
	}
	defer f.Close()
	if err := flock.Lock(f); err != nil {
		return fmt.Errorf("store %s: lock: %w", dir, err)
	}
	defer flock.Unlock(f)
	return fn()
}
