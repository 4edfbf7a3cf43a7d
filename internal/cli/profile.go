package cli

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

// ProfileFlag is the option both commands take, anywhere on their command
// line, to write a CPU profile of the whole process (go tool pprof reads it).
const ProfileFlag = "--cpuprofile"

// StartProfile takes --cpuprofile FILE (or --cpuprofile=FILE) out of args
// and, when it was given, starts a CPU profile into FILE. It returns the
// other arguments and a stop function that ends the profile; stop is never
// nil. The option is taken out before the command's own flags are parsed so
// that every subcommand has it without declaring it.
func StartProfile(args []string) (rest []string, stop func() error, err error) {
	stop = func() error { return nil }
	path := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case a == ProfileFlag:
			if i+1 >= len(args) {
				return nil, stop, fmt.Errorf("%s needs a file name", ProfileFlag)
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, ProfileFlag+"="):
			path = strings.TrimPrefix(a, ProfileFlag+"=")
		default:
			rest = append(rest, a)
		}
	}
	if path == "" {
		return rest, stop, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, stop, fmt.Errorf("%s: %w", ProfileFlag, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, stop, fmt.Errorf("%s %s: %w", ProfileFlag, path, err)
	}
	return rest, func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
