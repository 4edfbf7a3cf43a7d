// Command testsummary reads `go test -json` on standard input and prints
// what a person wants from a test run: the output of failed tests, one line
// per package, the slowest tests, and a closing count. It exits 1 when a
// test or a build failed, so `make test` stays honest behind a pipe.
//
//	go test -json ./... | go run ./internal/tools/testsummary -title race
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of test2json output.
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

type key struct{ pkg, test string }

type summary struct {
	out                     io.Writer
	buf                     map[key]*strings.Builder
	passed, failed, skipped int
	buildFailed             bool
	slow                    []timing
	pkgs                    []timing
}

type timing struct {
	name    string
	elapsed float64
}

func main() {
	title := flag.String("title", "tests", "a word naming this run in the closing lines")
	top := flag.Int("top", 10, "how many of the slowest tests to list")
	flag.Parse()
	s := &summary{out: os.Stdout, buf: map[key]*strings.Builder{}}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	s.report(*title, *top)
	if s.failed > 0 || s.buildFailed {
		os.Exit(1)
	}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(s.out, string(line)) // build errors and other plain text
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func (s *summary) add(e event) {
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "build-fail":
		s.buildFailed = true
	case "output":
		b := s.buf[k]
		if b == nil {
			b = &strings.Builder{}
			s.buf[k] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" { // the package's own result
			out := s.buf[k].String()
			if e.Action == "fail" {
				fmt.Fprint(s.out, out) // package-level failures: a panic, TestMain, a timeout
			} else if i := strings.LastIndex(strings.TrimRight(out, "\n"), "\n"); i >= 0 {
				fmt.Fprint(s.out, out[i+1:]) // the "ok  pkg  12.3s" line
			} else {
				fmt.Fprint(s.out, out)
			}
			s.pkgs = append(s.pkgs, timing{e.Package, e.Elapsed})
			delete(s.buf, k)
			return
		}
		switch e.Action {
		case "pass":
			s.passed++
		case "fail":
			s.failed++
			if b := s.buf[k]; b != nil {
				fmt.Fprint(s.out, b.String())
			}
		case "skip":
			s.skipped++
		}
		if !strings.Contains(e.Test, "/") {
			s.slow = append(s.slow, timing{e.Package + " " + e.Test, e.Elapsed})
		}
		delete(s.buf, k)
	}
}

func (s *summary) report(title string, top int) {
	sort.Slice(s.slow, func(i, j int) bool { return s.slow[i].elapsed > s.slow[j].elapsed })
	if len(s.slow) > top {
		s.slow = s.slow[:top]
	}
	fmt.Fprintf(s.out, "\nslowest tests (%s):\n", title)
	for _, t := range s.slow {
		fmt.Fprintf(s.out, "  %8s  %s\n", (time.Duration(t.elapsed*1000) * time.Millisecond).String(), t.name)
	}
	fmt.Fprintf(s.out, "%s: %d passed, %d failed, %d skipped\n", title, s.passed, s.failed, s.skipped)
}
