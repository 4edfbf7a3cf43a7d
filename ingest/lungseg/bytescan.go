package lungseg

import (
	"encoding/binary"
	"math/bits"
)

// Byte scans for the scan-line fills of the segmentation buffer: finding
// where a run of one value ends, the next pixel of a value, and filling a
// run, eight pixels a step. A fill spends its time in these loops, over
// rows that are mostly one value.

const lanes = 0x0101010101010101 // 1 in each byte

// hasByte reports whether any of the 8 bytes of w equals b.
func hasByte(w uint64, b uint8) bool {
	x := w ^ (lanes * uint64(b))
	return (x-lanes)&^x&(lanes<<7) != 0
}

// runEnd returns the first index j ≥ i (below end) with s[j] ≠ v, or end.
func runEnd(s []uint8, i, end int, v uint8) int {
	pat := lanes * uint64(v)
	for ; i+8 <= end; i += 8 {
		if x := binary.LittleEndian.Uint64(s[i:]) ^ pat; x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < end && s[i] == v; i++ {
	}
	return i
}

// runStart returns the smallest j ≤ i (at least start) with s[j…i] all v;
// s[i] must be v.
func runStart(s []uint8, i, start int, v uint8) int {
	pat := lanes * uint64(v)
	for i-8 >= start {
		// s[i-8…i-1] as one word: its highest byte is s[i-1].
		if x := binary.LittleEndian.Uint64(s[i-8:]) ^ pat; x != 0 {
			return i - bits.LeadingZeros64(x)/8
		}
		i -= 8
	}
	for ; i > start && s[i-1] == v; i-- {
	}
	return i
}

// nextByte returns the first index j ≥ i (below end) with s[j] = v, or end.
func nextByte(s []uint8, i, end int, v uint8) int {
	for ; i+8 <= end; i += 8 {
		if hasByte(binary.LittleEndian.Uint64(s[i:]), v) {
			break
		}
	}
	for ; i < end && s[i] != v; i++ {
	}
	return i
}

// fillRun sets s[i…j] to v.
func fillRun(s []uint8, i, j int, v uint8) {
	pat := lanes * uint64(v)
	for ; i+8 <= j+1; i += 8 {
		binary.LittleEndian.PutUint64(s[i:], pat)
	}
	for ; i <= j; i++ {
		s[i] = v
	}
}
