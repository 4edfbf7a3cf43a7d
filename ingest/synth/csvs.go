package synth

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
)

// writeCSVs writes annotations.csv, annotations_excluded.csv and
// candidates.csv as LUNA16 has them.
func writeCSVs(dir string, t *Truth) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	files := []struct {
		name   string
		header []string
		rows   func(s *ScanTruth) [][]string
	}{
		{"annotations.csv", []string{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"}, func(s *ScanTruth) (out [][]string) {
			for _, n := range s.Nodules {
				out = append(out, []string{s.UID, f(n.World[0]), f(n.World[1]), f(n.World[2]), f(n.Diameter)})
			}
			return
		}},
		{"annotations_excluded.csv", []string{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"}, func(s *ScanTruth) (out [][]string) {
			for _, n := range s.Excluded {
				out = append(out, []string{s.UID, f(n.World[0]), f(n.World[1]), f(n.World[2]), f(n.Diameter)})
			}
			return
		}},
		{"candidates.csv", []string{"seriesuid", "coordX", "coordY", "coordZ", "class"}, func(s *ScanTruth) (out [][]string) {
			for _, c := range s.Candidates {
				out = append(out, []string{s.UID, f(c.World[0]), f(c.World[1]), f(c.World[2]), strconv.Itoa(c.Class)})
			}
			return
		}},
	}
	for _, spec := range files {
		fh, err := os.Create(filepath.Join(dir, spec.name))
		if err != nil {
			return err
		}
		w := csv.NewWriter(fh)
		w.Write(spec.header)
		for i := range t.Scans {
			w.WriteAll(spec.rows(&t.Scans[i]))
		}
		w.Flush()
		if err := w.Error(); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}
