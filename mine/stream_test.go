package mine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/mine"
)

// TestSecondRunIntoOneFolderFails: while a run holds its output folder, a
// second run into it fails at once, names the first, and leaves the
// folder as it was; once the first is done, the folder is free again.
func TestSecondRunIntoOneFolderFails(t *testing.T) {
	_, s := setup(t)
	dir := t.TempDir()
	first := mine.DefaultOutput(dir)
	first.Size = 16
	// Hold the folder as a running mine would, from outside this process's view.
	hold := mine.DefaultOutput(dir)
	hold.Size = 16
	started := make(chan struct{})
	release := make(chan struct{})
	hold.Progress = func(done, total int) {
		if done == 1 {
			close(started)
			<-release
		}
	}
	hold.Workers = 1
	p := mine.DefaultNegatives()
	p.PerScan = 2
	errc := make(chan error, 1)
	go func() { _, err := mine.Negatives(context.Background(), s, hold, p); errc <- err }()
	<-started
	before, _ := os.ReadDir(dir)
	second := mine.DefaultOutput(dir)
	second.Size, second.Overwrite, second.CommandLine = 16, true, []string{"mine", "negatives", "--seed", "2"}
	_, err := mine.Negatives(context.Background(), s, second, p)
	close(release)
	if !errors.Is(err, mine.ErrOutputBusy) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second run: %v, want ErrOutputBusy naming the first", err)
	}
	// The refused run (with --overwrite) removed nothing of the first's.
	for _, e := range before {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			continue // a patch being written: renamed in place
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name())); err != nil {
			t.Errorf("the refused run removed %s: %v", e.Name(), err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".voxmine-run.lock")); err == nil {
		t.Error("the lock file outlived the run")
	}
	first.Overwrite = true
	if _, err := mine.Negatives(context.Background(), s, first, p); err != nil {
		t.Fatalf("a run after the first ended: %v", err)
	}
}
