// Package testenv tells a test what kind of run it is in. `make test` runs
// the packages whose code shares memory between goroutines (RACE_PKGS in
// the Makefile) under the race detector, then every package at full
// speed. Compute-heavy tests, which the race detector slows five to ten
// times and which hold no concurrency the light tests do not also
// exercise, run in the second pass only.
package testenv

import "testing"

// SkipUnderRace skips t when the test binary is built with -race. The
// non-race pass of `make test` runs it.
func SkipUnderRace(t testing.TB) {
	t.Helper()
	if RaceEnabled {
		t.Skip("compute-heavy: run by make test's pass without -race")
	}
}
