package ingest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"voxmine/ingest"
	"voxmine/store"
)

// LUNA25's table names its columns its own way and gives no diameter:
// ReadFindings takes it as it is, each nodule of unknown size (−1, which
// the distance rules count as 10 mm) and labelled as the table says.
func ExampleReadFindings() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "LUNA25_Public_Training_Development_Data.csv")
	os.WriteFile(path, []byte("PatientID,SeriesInstanceUID,CoordX,CoordY,CoordZ,label\n"+
		"100012,1.2.840.1,-61.2,25.5,-121.0,1\n"), 0o644)
	f := &store.Findings{}
	n, err := ingest.ReadFindings(path, ingest.Annotations, f)
	sf := f.Series["1.2.840.1"]
	fmt.Println(n, err, sf.PatientID, sf.Annotations[0])
	// Output: 1 <nil> 100012 {-61.2 25.5 -121 -1 1 2}
}
