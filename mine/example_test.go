package mine_test

import (
	"fmt"

	"voxmine/mine"
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
