// Package testenv tells a test what kind of run it is in. `make test` runs
// the packages whose code shares memory between goroutines (RACE_PKGS in
// the Makefile) under the race detector, then every package at full
// speed. Compute-heavy tests, which the race detector slows five to ten
// times and which hold no concurrency the light tests do not also
// exercise, run in the second pass only.
package testenv

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// SkipUnderRace skips t when the test binary is built with -race. The
// non-race pass of `make test` runs it.
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if RaceEnabled {
		t.Skip("compute-heavy: run by make test's pass without -race")
	}
}

// Require skips t when something it needs from outside the repository is
// missing (err is not nil): real CT under ../shared, Debian's numpy, node.
// Under CI (CI set, as .ci/run runs) it fails instead: there the thing is
// installed or shipped, and a check that silently skips proves nothing.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CANNOT RUN, %s: %v", what, err)
	}
	t.Skipf("skipped, %s: %v", what, err)
}

// Shared returns the path of rel inside ../shared, the reference material
// beside the repository (realct/lidc-idri-0001, luna16/annotations.csv),
// found from the test's folder upwards; it Requires that it exists.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err == nil {
		for range 8 {
			p := filepath.Join(dir, "..", "shared", filepath.FromSlash(rel))
			if _, err := os.Stat(p); err == nil {
				return p
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
		err = fmt.Errorf("../shared/%s not found: %w", rel, fs.ErrNotExist)
	}
	Require(t, "reference data missing", err)
	return ""
}

// root is the folder a test binary's shared fixtures live under, made and
// removed by Main.
var root string

// Main runs a test binary's tests (call it from TestMain) with one
// temporary folder for the fixtures its tests share, built once per binary
// (a store, a synthetic dataset), and removes it afterwards: a run leaves
// nothing in the system's temporary folder.
func Main(m *testing.M) {
	d, err := os.MkdirTemp("", "voxmine-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	root = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// TempDir makes a new folder for a shared fixture: under Main's folder, or
// the system's temporary folder in a binary without Main.
func TempDir(prefix string) (string, error) {
	return os.MkdirTemp(root, prefix)
}
