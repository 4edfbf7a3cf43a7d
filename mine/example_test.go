package mine_test

import (
	"fmt"

	"voxmine/mine"
	"voxmine/store"
)

// The notebook's transform of one HU value: (clip(HU, −1000, 400) + 1000)
// / 1400, rounded once to float16 as NumPy's astype(np.float16) does.
func ExampleFloat16() {
	for _, hu := range []float64{-1024, -850, 40, 1000} {
		v := (min(max(hu, -1000), 400) + 1000) / 1400
		fmt.Printf("%5.0f HU → %#04x\n", hu, mine.Float16(v))
	}
	// Output:
	// -1024 HU → 0x0000
	//  -850 HU → 0x2edb
	//    40 HU → 0x39f1
	//  1000 HU → 0x3c00
}

// Every .npy voxmine writes starts with a header NumPy reads: 64 bytes
// for a 64³ float16 cube.
func ExampleNPYHeader() {
	h := mine.NPYHeader(mine.F16, 64, 64, 64)
	fmt.Println(len(h), string(h[10:70]))
	// Output: 128 {'descr': '<f2', 'fortran_order': False, 'shape': (64, 64, 6
}

// Two screening rounds of one patient land in the same part of a split;
// a scan with no patient id (a MetaImage file) is its own group.
func ExampleSplit() {
	scans := make([]store.ScanInfo, 3)
	scans[0].UID, scans[0].Source.PatientID = "1.2.1", "NLST-100012"
	scans[1].UID, scans[1].Source.PatientID = "1.2.2", "NLST-100012"
	scans[2].UID = "1.3.6.1.4.1.14519.5.2.1.6279.6001.1"
	parts, _ := mine.ParseParts("train:0.5,test:0.5")
	a, _ := mine.Split(scans, mine.ByPatient, parts, 1)
	fmt.Println(a[0].Part == a[1].Part, a[0].Group, a[2].Group == a[2].UID)
	// Output: true NLST-100012 true
}
