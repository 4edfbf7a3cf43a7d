package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		ok             bool
		stdout, stderr string
	}{
		{[]string{"--help"}, ExitOK, false, "the help text", ""},
		{[]string{"--per-scna", "3"}, ExitUsage, false, "", "did you mean --per-scan?"},
		{[]string{"--zzzzzz"}, ExitUsage, false, "", "unknown flag"},
		{[]string{"extra"}, ExitUsage, false, "", `unexpected argument "extra"`},
		{[]string{"--per-scan", "3"}, 0, true, "", ""},
	}
	for _, tc := range tests {
		fs := pflag.NewFlagSet("mine negatives", pflag.ContinueOnError)
		fs.Int("per-scan", 1, "patches per scan")
		var out, errb bytes.Buffer
		code, ok := Parse(fs, tc.args, "the help text\n", &out, &errb)
		if code != tc.code || ok != tc.ok || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%v: code %d ok %v\nstdout %q\nstderr %q", tc.args, code, ok, out.String(), errb.String())
		}
		if tc.args[0] == "--help" && !strings.Contains(out.String(), "per-scan") {
			t.Error("--help does not list the options on stdout")
		}
	}
	if s := Suggest("negativs", []string{"negatives", "positives", "info"}); s != "negatives" {
		t.Errorf("Suggest: %q", s)
	}
	if s := Suggest("xyz", []string{"negatives", "info"}); s != "" {
		t.Errorf("Suggest far: %q", s)
	}
}
