// Package flock holds the file locks voxmine's writers share: the store's
// catalog lock and a mining run's output folder. They are the kernel's
// (flock on Unix, LockFileEx on Windows), so a process that dies releases
// its locks and leaves nothing stale.
package flock
