package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"voxmine/store"
)

// Version is what --version prints.
func Version() string {
	return fmt.Sprintf("%s (%s %s/%s)", store.ToolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Parse parses a command's flags the way both commands do: --help prints
// help (the command's text, then its options with their defaults) on
// stdout and returns ExitOK; a mistake prints the error on stderr, with a
// "did you mean" for a mistyped flag, and returns ExitUsage; leftover
// arguments are mistakes too. ok is true when the command should run.
func Parse(fs *pflag.FlagSet, args []string, help string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard) // pflag's own messages: this function says it better
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprint(stdout, help)
		fmt.Fprintln(stdout, "\nOptions:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return ExitOK, false
	case err != nil:
		msg := err.Error()
		if name, found := strings.CutPrefix(msg, "unknown flag: --"); found {
			var names []string
			fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
			if s := Suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", s)
			}
		}
		fmt.Fprintf(stderr, "%s: %s (see --help)\n", fs.Name(), msg)
		return ExitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q (see --help)\n", fs.Name(), fs.Arg(0))
		return ExitUsage, false
	}
	return 0, true
}

// Suggest returns the option closest to word when it is close enough to be
// a typo (an edit distance of at most a third of its length, and 2), or "".
func Suggest(word string, options []string) string {
	best, bestD := "", 1<<30
	for _, o := range options {
		if d := editDistance(word, o); d < bestD {
			best, bestD = o, d
		}
	}
	if bestD <= max(1, min(2, len(word)/3)) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
