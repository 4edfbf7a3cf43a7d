package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"voxmine/store"
)

// CSVKind says which LUNA16 table a file holds.
type CSVKind int

// The three tables ingest reads.
const (
	Annotations CSVKind = iota
	Excluded
	Candidates
)

func (k CSVKind) String() string {
	return [...]string{"annotations", "excluded", "candidates"}[k]
}

// ReadFindings parses a LUNA16 CSV (seriesuid, coordX, coordY, coordZ and
// diameter_mm or class) into f, by series. Errors name file:line.
func ReadFindings(path string, kind CSVKind, f *store.Findings) (rows int, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return 0, fmt.Errorf("%s:1: %w", path, err)
	}
	last := "diameter_mm"
	if kind == Candidates {
		last = "class"
	}
	want := []string{"seriesuid", "coordX", "coordY", "coordZ", last}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return 0, fmt.Errorf("%s:1: no %q column (header %v); a %s file needs %v", path, w, header, kind, want)
		}
	}
	if f.Series == nil {
		f.Series = map[string]*store.SeriesFindings{}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return rows, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < len(header) {
			return rows, fmt.Errorf("%s:%d: %d fields, the header has %d", path, line, len(rec), len(header))
		}
		var v [4]float64
		for i, name := range want[1:] {
			s := strings.TrimSpace(rec[col[name]])
			x, perr := strconv.ParseFloat(s, 64)
			if perr != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return rows, fmt.Errorf("%s:%d: %s %q is not a number", path, line, name, s)
			}
			v[i] = x
		}
		uid := strings.TrimSpace(rec[col["seriesuid"]])
		if uid == "" {
			return rows, fmt.Errorf("%s:%d: empty seriesuid", path, line)
		}
		fd := store.Finding{X: v[0], Y: v[1], Z: v[2], Diameter: v[3], Class: -1}
		sf := f.Series[uid]
		if sf == nil {
			sf = &store.SeriesFindings{}
			f.Series[uid] = sf
		}
		switch kind {
		case Annotations:
			if v[3] <= 0 {
				return rows, fmt.Errorf("%s:%d: diameter_mm %v is not positive", path, line, v[3])
			}
			sf.Annotations = append(sf.Annotations, fd)
		case Excluded:
			sf.Excluded = append(sf.Excluded, fd)
		case Candidates:
			if v[3] != 0 && v[3] != 1 {
				return rows, fmt.Errorf("%s:%d: class %v is not 0 or 1", path, line, v[3])
			}
			fd.Class, fd.Diameter = int(v[3]), 0
			sf.Candidates = append(sf.Candidates, fd)
		}
		rows++
	}
	return rows, nil
}
