// Command floor measures the floor of a mining run, for the targets of
// issue 23: given a run's index CSV, it does only what the run could not
// avoid, in one process, timed from its start: map each scan, decode the
// chunks each cube touches (a cold cache), window the cube to float16 and
// write it as an .npy file, on as many workers as the run had. The run's
// whole-process time over this floor (plus an empty process's start,
// measured by the script) is the overhead bench/floor.sh reports.
//
// Usage: go run ./bench/floor -store STORE -index RUN/bg_index.csv -out DIR [-workers N]
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"voxmine/mine"
	"voxmine/query"
	"voxmine/store"
)

func main() {
	storeDir := flag.String("store", "", "the store")
	index := flag.String("index", "", "the run's index CSV (patch_file, seriesuid, center_z, center_y, center_x, …)")
	out := flag.String("out", "", "folder for the cubes")
	size := flag.Int("size", 64, "cube edge")
	workers := flag.Int("workers", 2, "workers")
	flag.Parse()
	start := time.Now()
	if err := run(*storeDir, *index, *out, *size, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", float64(time.Since(start).Microseconds())/1000)
}

type cube struct {
	file   string
	center [3]int
}

func run(storeDir, index, out string, size, workers int) error {
	f, err := os.Open(index)
	if err != nil {
		return err
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	byScan := map[string][]cube{}
	var order []string
	for _, r := range rows[1:] {
		var c [3]int
		for k, name := range []string{"center_z", "center_y", "center_x"} {
			if c[k], err = strconv.Atoi(r[col[name]]); err != nil {
				return err
			}
		}
		uid := r[col["seriesuid"]]
		if byScan[uid] == nil {
			order = append(order, uid)
		}
		byScan[uid] = append(byScan[uid], cube{r[col["patch_file"]], c})
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return err
	}
	defer st.Close()
	win, err := mine.NewWindow(-1000, 400, mine.F16)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	jobs := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hu := make([]int16, size*size*size)
			var buf []byte
			hdr := mine.NPYHeader(mine.F16, size, size, size)
			for uid := range jobs {
				v, err := st.OpenVolume(uid)
				if err != nil {
					errs <- err
					return
				}
				for _, c := range byScan[uid] {
					if err := v.ReadHU(query.CubeBox(c.center, size), -1000, hu); err != nil {
						errs <- err
						return
					}
					buf = win.Encode(append(buf[:0], hdr...), hu)
					if err := os.WriteFile(filepath.Join(out, c.file), buf, 0o644); err != nil {
						errs <- err
						return
					}
				}
				v.Close()
			}
		}()
	}
	for _, uid := range order {
		jobs <- uid
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
