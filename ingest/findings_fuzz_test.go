package ingest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest"
	"voxmine/store"
)

// FuzzReadFindings: no CSV makes the findings reader panic; what it
// accepts has finite coordinates, and its errors stay short whatever the
// file holds.
func FuzzReadFindings(f *testing.F) {
	f.Add("seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,-1.5,2,3,6.5\n", uint8(0))
	f.Add("seriesuid,coordX,coordY,coordZ,class\n1.2.3,1,2,3,0\n1.2.3,1,2,3,1\n", uint8(2))
	f.Add("SeriesInstanceUID,CoordX,CoordY,CoordZ,label,PatientID\n1.2,1,2,3,1,p\n", uint8(0))
	f.Add("\ufeffseriesuid,x,y,z,diameter\n1.2.3,NaN,Inf,1e999,-1\n", uint8(1))
	f.Add("seriesuid,coordX,coordY\n\"unterminated", uint8(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string, kind uint8) {
		path := filepath.Join(dir, "x.csv")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		kinds := []ingest.CSVKind{ingest.Annotations, ingest.Excluded, ingest.Candidates}
		fs := &store.Findings{}
		_, err := ingest.ReadFindings(path, kinds[int(kind)%len(kinds)], fs)
		if err != nil {
			if len(err.Error()) > 2000 {
				t.Fatalf("an error of %d bytes", len(err.Error()))
			}
			return
		}
		for uid, sf := range fs.Series {
			for _, list := range [][]store.Finding{sf.Annotations, sf.Excluded, sf.Candidates} {
				for _, x := range list {
					for _, v := range []float64{x.X, x.Y, x.Z} {
						if v != v || v > 1e300 || v < -1e300 {
							t.Fatalf("series %.40s: accepted coordinate %v", uid, v)
						}
					}
				}
			}
			if strings.TrimSpace(uid) == "" {
				t.Fatal("accepted an empty series uid")
			}
		}
	})
}
