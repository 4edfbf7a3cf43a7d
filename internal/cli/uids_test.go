package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadUIDs(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"a list from mine split", "# train: 2 scans\n1.2.3\n1.2.4\n", []string{"1.2.3", "1.2.4"}},
		{"LUNA16 annotations.csv", "seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,1,2,3,4\n1.2.3,5,6,7,8\n1.2.5,1,2,3,4\n", []string{"1.2.3", "1.2.5"}},
		{"LUNA25 table, uid second", "PatientID,SeriesInstanceUID,CoordX\n100012,1.2.3,1\n100013,1.2.4,2\n", []string{"1.2.3", "1.2.4"}},
		{"an index CSV", "patch_file,seriesuid,label\nx_bg0.npy,1.2.3,0\n", []string{"1.2.3"}},
		{"uids with notes", "1.2.3  kernel B45f\n\n1.2.4\n", []string{"1.2.3", "1.2.4"}},
		{"nothing", "# empty\n\n", nil},
	}
	for _, tc := range tests {
		p := filepath.Join(t.TempDir(), "uids")
		os.WriteFile(p, []byte(tc.body), 0o644)
		got, err := ReadUIDs(p)
		if !slices.Equal(got, tc.want) || (err != nil) != (tc.want == nil) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
