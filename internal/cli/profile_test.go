package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestStartProfile: --cpuprofile and --memprofile, either form, come out
// of the arguments wherever they stand, and stop writes both files; after
// "--" nothing is taken.
func TestStartProfile(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	rest, stop, err := StartProfile([]string{"negatives", "--cpuprofile", cpu, "--store", "s", "--memprofile=" + mem, "--", "--memprofile", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"negatives", "--store", "s", "--", "--memprofile", "x"}; !slices.Equal(rest, want) {
		t.Errorf("rest %q, want %q", rest, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cpu, mem} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, want a profile", p, err)
		}
	}
	if _, _, err := StartProfile([]string{"--memprofile"}); err == nil {
		t.Error("--memprofile without a file was taken")
	}
	rest, stop, err = StartProfile([]string{"info", "--store", "s"})
	if err != nil || !slices.Equal(rest, []string{"info", "--store", "s"}) || stop() != nil {
		t.Errorf("no profile asked: %q, %v", rest, err)
	}
}
