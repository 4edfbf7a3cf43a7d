package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadUIDs reads a list of series uids for --uids: a plain list (one a
// line, # comments and blank lines ignored), or a CSV, from its
// seriesuid or SeriesInstanceUID column when the header has one, else
// from its first column. So mine split's lists, an index CSV, LUNA16's
// annotations.csv and LUNA25's table all work as they are. Uids repeat
// in tables; each is returned once, in first-seen order.
func ReadUIDs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	col := 0
	if len(lines) > 0 {
		r := csv.NewReader(strings.NewReader(lines[0]))
		header, _ := r.Read()
		for i, h := range header {
			switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
			case "seriesuid", "seriesinstanceuid", "series_uid":
				col, lines = i, lines[1:]
			}
		}
	}
	var uids []string
	seen := map[string]bool{}
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if col >= len(rec) {
			continue
		}
		uid := strings.TrimSpace(rec[col])
		if f := strings.Fields(uid); len(f) > 0 { // "uid  note" in a hand-made list
			uid = f[0]
		}
		if uid == "" || seen[uid] {
			continue
		}
		seen[uid] = true
		uids = append(uids, uid)
	}
	if len(uids) == 0 {
		return nil, fmt.Errorf("%s lists no series uids", path)
	}
	return uids, nil
}
