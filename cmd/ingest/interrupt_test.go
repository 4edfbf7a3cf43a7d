package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"voxmine/internal/testenv"
)

// TestInterruptChild is the ingest process the interrupt test signals: it
// runs only when the parent sets VOXMINE_INGEST_ARGS.
func TestInterruptChild(t *testing.T) {
	args := os.Getenv("VOXMINE_INGEST_ARGS")
	if args == "" {
		t.Skip("the child of TestInterruptStops")
	}
	os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// TestInterruptStops: Ctrl-C (SIGINT) ends an ingest promptly at the
// stages that work longest: drawing full-size phantoms, and placing the
// marks of an LIDC XML that holds thousands of slice-sized contours (it
// hung before contours were clipped, and ignored SIGINT). The target is
// 2 s; the test allows 6 s, for a loaded machine, and logs the time.
func TestInterruptStops(t *testing.T) {
	testenv.SkipUnderRace(t)
	lidcDir := testenv.Shared(t, "realct/lidc-idri-0001")
	hostile := filepath.Join(t.TempDir(), "lidc")
	os.MkdirAll(hostile, 0o755)
	dcms, _ := filepath.Glob(filepath.Join(lidcDir, "*.dcm"))
	for _, f := range dcms {
		os.Symlink(f, filepath.Join(hostile, filepath.Base(f)))
	}
	os.WriteFile(filepath.Join(hostile, "hostile.xml"), hostileXML(t, filepath.Join(lidcDir, "069.xml")), 0o644)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"synthetic phantoms", []string{"--synthetic", "6", "--src", filepath.Join(t.TempDir(), "src"), "--out", filepath.Join(t.TempDir(), "st"), "--quiet"}},
		{"LIDC marks", []string{"--src", hostile, "--out", filepath.Join(t.TempDir(), "st"), "--quiet", "--workers", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^TestInterruptChild$")
			cmd.Env = append(os.Environ(), "VOXMINE_INGEST_ARGS="+strings.Join(tc.args, "\x1f"))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			sent := time.Now()
			cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
				t.Logf("stopped %.2f s after SIGINT, exit %d", time.Since(sent).Seconds(), cmd.ProcessState.ExitCode())
				if code := cmd.ProcessState.ExitCode(); code != 130 {
					t.Errorf("exit %d, want 130 (interrupted)\n%s", code, out.String())
				}
			case <-time.After(6 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 6 s after SIGINT\n%s", out.String())
			}
		})
	}
}

// hostileXML is a LIDC read of the series with one nodule of 3,000
// contours, each the whole slice: placed, they are 200 million pixel
// visits.
func hostileXML(t *testing.T, real string) []byte {
	t.Helper()
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(b), "<readingSession>")
	if !ok {
		t.Fatal("no readingSession in the real read")
	}
	var rois strings.Builder
	for range 3000 {
		rois.WriteString("<roi><imageZposition>-125.0</imageZposition><imageSOP_UID>x</imageSOP_UID><inclusion>TRUE</inclusion>")
		for _, p := range [][2]int{{0, 0}, {511, 0}, {511, 511}, {0, 511}} {
			fmt.Fprintf(&rois, "<edgeMap><xCoord>%d</xCoord><yCoord>%d</yCoord></edgeMap>", p[0], p[1])
		}
		rois.WriteString("</roi>")
	}
	return []byte(head + "<readingSession><servicingRadiologistID>r</servicingRadiologistID><unblindedReadNodule><noduleID>n</noduleID>" +
		rois.String() + "</unblindedReadNodule></readingSession></LidcReadMessage>")
}
