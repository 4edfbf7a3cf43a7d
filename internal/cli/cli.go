// Package cli holds what voxmine's two commands share: progress display,
// exit codes and human-readable sizes.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Exit codes shared by the commands.
const (
	ExitOK    = 0
	ExitData  = 1 // some scans failed; the rest is done
	ExitUsage = 2 // bad flags or input that stops the whole run
	// ExitInterrupted is the shell's code for a run stopped by Ctrl-C
	// (128 + SIGINT): what was finished is kept; running the same command
	// again resumes.
	ExitInterrupted = 130
)

// Progress shows done/total with rate and ETA: a bar on a terminal, a line
// every few seconds otherwise, nothing when quiet.
type Progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	what  string
	total int
	start time.Time
	last  time.Time
	quiet bool
}

// NewProgress starts a display for total items.
func NewProgress(w io.Writer, total int, what string, quiet bool) *Progress {
	p := &Progress{w: w, what: what, total: total, start: time.Now(), last: time.Now(), quiet: quiet}
	if quiet {
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(what),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// Set reports that done items are finished.
func (p *Progress) Set(done int) {
	switch {
	case p.quiet:
	case p.bar != nil:
		p.bar.Set(done)
	case time.Since(p.last) >= 5*time.Second || done == p.total:
		p.last = time.Now()
		el := time.Since(p.start)
		rate := float64(done) / el.Seconds()
		eta := ""
		if rate > 0 && done < p.total {
			eta = fmt.Sprintf(", ETA %s", (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second))
		}
		fmt.Fprintf(p.w, "%s: %d/%d (%.1f/s%s)\n", p.what, done, p.total, rate, eta)
	}
}

// Finish clears the bar.
func (p *Progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// Bytes formats a size for people.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// About names a subject (a file, a series uid) once in a message about
// it: "subject: message", or the message alone when it already names the
// subject, as an *os.PathError does. Errors from the readers and the store
// name their file or scan; the commands' reports do not say it again.
func About(subject, message string) string {
	if subject == "" || strings.Contains(message, subject) {
		return message
	}
	return subject + ": " + message
}
