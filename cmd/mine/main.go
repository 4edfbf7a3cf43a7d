// Command mine cuts training patches from a voxmine store: negatives,
// single ROIs and store information (positives, candidates and whole
// datasets too), reading only the chunks each patch touches.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"voxmine/internal/cli"
)

const usage = `mine — cut training patches from a voxmine store.

Usage:
  mine negatives  --store S --out DIR [options]   random background cubes in the lung
  mine positives  --store S --out DIR [options]   cubes on every annotated nodule
  mine candidates --store S --out DIR [options]   cubes on CAD candidates (hard negatives)
  mine dataset    --store S --out DIR [options]   all three at a ratio, one index.csv
  mine roi        --store S --uid UID (--world X,Y,Z | --voxel Z,Y,X) --out FILE.npy
  mine info       --store S [--uid UID] [--json] [--csv] [--one-per-study]
  mine split      --store S --out DIR [--by patient]   train/val/test uid lists, a patient's scans together
  mine stream KIND --store S [options]             KIND's patches as a tar on standard output (no files)

Run "mine COMMAND --help" (or "mine help COMMAND") for the options of a
command; "mine --version" prints the version. Every command also
takes --cpuprofile FILE, which writes a CPU profile of the run for go tool pprof,
and --memprofile FILE, a heap profile at its end. A run's heap is kept near
128 MiB (GOMEMLIMIT overrides it).

Examples:
  # the Kaggle notebook's run, reproducibly: 601 annotated series, HU test
  mine negatives --store store/ --out bg/ --scans annotated --lung hu --per-scan 1

  # voxmine's defaults: all scans, lung mask, 15 mm from any finding
  mine negatives --store store/ --out bg/ --per-scan 4 --seed 7 --preview bg.png --pack
`

const streamHelp = `mine stream KIND — patches straight into a training loop, never through the disk.

KIND is negatives, positives, candidates or dataset, with all of that
command's options; "mine stream KIND" is "mine KIND --out -". Standard output
is a POSIX tar in WebDataset's layout: for each patch KEY.npy (the bytes a
file run writes), KEY.json (its index row, every column, numbers as
numbers) and, with --labels, KEY.labels.npy (uint8 lung labels). KEY is the
patch's file name with its dots made underscores; the row keeps the uid.
What the run skipped or could not read is said on standard error.

Stream options (with any KIND):
  --epoch E     draw epoch E's samples: new centres, copies and jitter,
                reproducibly from (seed, epoch); epoch 0 is a file run's
  --part I/N    only part I of N: disjoint, and together the whole stream
                (one per DataLoader worker and DDP rank)
  --shuffle     visit the scans in an order drawn from (seed, epoch)
  --labels      also stream each cube's lung labels

Examples:
  mine stream negatives --store store/ --per-scan 4 --seed 1 --epoch 3 | tar tvf -
  mine stream dataset --store store/ --negatives-per-positive 3 --copies 2 --jitter 3 --part 0/4
  # in Python: voxmine.stream(store, "negatives", per_scan=4) or voxmine.torch.PatchStream
`

// defaultMemoryLimit is the soft limit on the Go heap of a mining run
// when GOMEMLIMIT does not set one.
const defaultMemoryLimit = 128 << 20

type command struct {
	name string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func main() {
	// A mining run's live heap is small (the chunk cache, a patch buffer
	// per worker, the findings, some 150 bytes of index a patch):
	// collecting at 5× the live heap rather than 2× saves a fifth of a
	// small run's time. The soft limit then keeps a long run under 200 MB
	// of memory whatever the store's size and the patch count (the
	// collector works harder near it, rather than the heap growing):
	// 100,000 patches of 2,000 scans streamed at 168 MB in 48.5 s (200 MB
	// at a 160 MiB limit, in the same time), every scan of a
	// 200,000-scan store at 174 MB. GOGC and GOMEMLIMIT, when set, win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	args, stop, err := cli.StartProfile(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "mine: %v\n", err)
		os.Exit(cli.ExitUsage)
	}
	code := runMain(args, os.Stdout, os.Stderr)
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "mine: %v\n", err)
	}
	os.Exit(code)
}

func runMain(args []string, stdout, stderr io.Writer) int {
	cmds := []command{
		{"negatives", runNegatives}, {"positives", runPositives}, {"candidates", runCandidates},
		{"dataset", runDataset}, {"roi", runROI}, {"info", runInfo}, {"split", runSplit},
	}
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, usage)
		return cli.ExitUsage
	case args[0] == "-h" || args[0] == "--help" || (args[0] == "help" && len(args) == 1):
		fmt.Fprint(stdout, usage)
		return cli.ExitOK
	case args[0] == "--version" || args[0] == "version":
		fmt.Fprintln(stdout, "mine", cli.Version())
		return cli.ExitOK
	case args[0] == "help":
		args = []string{args[1], "--help"} // mine help CMD
	case args[0] == "stream":
		// mine stream KIND [flags] is mine KIND --out - [flags].
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprint(stderr, streamHelp)
			if len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
				return cli.ExitOK
			}
			return cli.ExitUsage
		}
		args = append([]string{args[1], "--out", "-"}, args[2:]...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	if s := cli.Suggest(args[0], names); s != "" {
		fmt.Fprintf(stderr, "mine: unknown command %q (did you mean %q?)\n", args[0], s)
	} else {
		fmt.Fprintf(stderr, "mine: unknown command %q\n\n%s", args[0], usage)
	}
	return cli.ExitUsage
}

// cmdFlags is a command's flag set with what --help prints.
type cmdFlags struct {
	*pflag.FlagSet
	help           string
	stdout, stderr io.Writer
}

// flagSet makes a command's flag set with --help that shows examples.
func flagSet(name, help string, stdout, stderr io.Writer) *cmdFlags {
	fs := pflag.NewFlagSet("mine "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	return &cmdFlags{FlagSet: fs, help: help, stdout: stdout, stderr: stderr}
}

// parse parses flags; it returns false with the exit code when the
// command should stop (help asked, or bad flags).
func (fs *cmdFlags) parse(args []string) (int, bool) {
	return cli.Parse(fs.FlagSet, args, fs.help, fs.stdout, fs.stderr)
}

func defaultWorkers() int { return runtime.NumCPU() }
