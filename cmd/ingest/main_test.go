package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(args ...string) (int, string) {
	var out bytes.Buffer
	code := run(args, &out, &out)
	return code, out.String()
}

func TestUsage(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing", nil, 2, "required"},
		{"help", []string{"--help"}, 0, "Examples"},
		{"bad shard", []string{"--src", t.TempDir(), "--out", t.TempDir(), "--shard", "3/2"}, 2, "I/N"},
		{"missing src", []string{"--src", "/nonexistent", "--out", t.TempDir()}, 2, "not a folder"},
		{"bad lung", []string{"--src", t.TempDir(), "--out", t.TempDir(), "--lung", "maybe"}, 2, "lung mode"},
		{"synthetic into a full folder", []string{"--synthetic", "1", "--src", full}, 2, "not empty"},
		{"stray argument", []string{"foo"}, 2, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d (want %d): %q, want %q", code, tc.code, out, tc.want)
			}
		})
	}
}

func TestSyntheticWithBrokenScansExitsOne(t *testing.T) {
	dir := t.TempDir()
	src, st := filepath.Join(dir, "src"), filepath.Join(dir, "store")
	code, out := runCmd("--synthetic", "1", "--small", "--variants", "--src", src, "--out", st, "--quiet")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"CT scans mapped: 8 | masks found: 5", "ingested 5", "3 scans failed", "missing key DimSize", "truncated", "MET_FLOAT_MATRIX"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Run again: everything stored is current, the broken ones fail again.
	code, out = runCmd("--src", src, "--out", st, "--masks", filepath.Join(src, "seg-lungs-LUNA16"), "--quiet")
	if code != 1 || !strings.Contains(out, "already current 5") {
		t.Errorf("rerun: exit %d\n%s", code, out)
	}
	if code, out := runCmd("--repair", "--out", st); code != 0 || !strings.Contains(out, "5 scans") {
		t.Errorf("repair: %d %s", code, out)
	}
}
