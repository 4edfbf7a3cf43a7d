package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// ProfileFlag is the option both commands take, anywhere on their command
// line, to write a CPU profile of the whole process (go tool pprof reads it).
const ProfileFlag = "--cpuprofile"

// MemProfileFlag writes a heap profile of the memory in use at the run's
// end (go tool pprof -sample_index=inuse_space reads it), and the most the
// heap ever held, for runs whose memory grows with their size.
const MemProfileFlag = "--memprofile"

// StartProfile takes --cpuprofile FILE and --memprofile FILE (or
// --flag=FILE) out of args and starts what they ask. It returns the other
// arguments and a stop function that ends the profiles and writes them;
// stop is never nil. The options are taken out before the command's own
// flags are parsed so that every subcommand has them without declaring
// them.
func StartProfile(args []string) (rest []string, stop func() error, err error) {
	stop = func() error { return nil }
	paths := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case flag == ProfileFlag || flag == MemProfileFlag:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, stop, fmt.Errorf("%s needs a file name", flag)
				}
				value = args[i+1]
				i++
			}
			paths[flag] = value
		default:
			rest = append(rest, a)
		}
	}
	var stops []func() error
	if path := paths[ProfileFlag]; path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, stop, fmt.Errorf("%s: %w", ProfileFlag, err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, stop, fmt.Errorf("%s %s: %w", ProfileFlag, path, err)
		}
		stops = append(stops, func() error {
			pprof.StopCPUProfile()
			return f.Close()
		})
	}
	if path := paths[MemProfileFlag]; path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() error {
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("%s: %w", MemProfileFlag, err)
			}
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		})
	}
	return rest, func() error {
		var err error
		for _, s := range stops {
			if serr := s(); err == nil {
				err = serr
			}
		}
		return err
	}, nil
}
