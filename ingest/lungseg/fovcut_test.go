package lungseg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestHullRows(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi []int32 // per row, -1 for none
		want   string
	}{
		{"rectangle", []int32{2, 2, 2}, []int32{5, 5, 5}, "[[2 5] [2 5] [2 5]]"},
		// A wedge: row 1 gets the hull's span, wider than its own points.
		{"wedge", []int32{0, 3, 4}, []int32{1, 3, 8}, "[[0 1] [2 4] [4 8]]"},
		{"hourglass", []int32{0, 4, 0}, []int32{8, 4, 8}, "[[0 8] [0 8] [0 8]]"},
		{"rows without points", []int32{-1, 3, -1}, []int32{-1, 6, -1}, "[[1 0] [3 6] [1 0]]"},
		{"nothing", []int32{-1, -1}, []int32{-1, -1}, "[[1 0] [1 0]]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(hullRows(tc.lo, tc.hi)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestPaddingSpans: padding of a value air or tissue can hold is found by
// the disc it leaves, and only then.
func TestPaddingSpans(t *testing.T) {
	const n = 256
	r := rand.New(rand.NewPCG(5, 6))
	noisy := func(mean, sd float64) int16 { return int16(math.Round(mean + sd*r.NormFloat64())) }
	// slice draws a slice: pad outside a circle of the given radius about
	// (cx, cy) (none when radius is 0), inside it air, and a body ellipse
	// of tissue (semi-axes ax, ay) about the middle.
	slice := func(pad int16, cx, cy, radius, ax, ay float64, air func() int16) []int16 {
		h := make([]int16, n*n)
		for y := range n {
			for x := range n {
				dx, dy := float64(x)-cx, float64(y)-cy
				ex, ey := (float64(x)-n/2)/ax, (float64(y)-n/2)/ay
				switch {
				case radius > 0 && dx*dx+dy*dy > radius*radius:
					h[y*n+x] = pad
				case ex*ex+ey*ey <= 1:
					h[y*n+x] = noisy(40, 15)
				default:
					h[y*n+x] = air()
				}
			}
		}
		return h
	}
	air := func() int16 { return noisy(-1000, 18) }
	clamped := func() int16 { return -1024 }
	bump := func(h []int16) []int16 { // tissue across the circle's right edge on 12 rows
		for y := 120; y < 132; y++ {
			for x := 200; x < 240; x++ {
				h[y*n+x] = noisy(40, 15)
			}
		}
		return h
	}
	tests := []struct {
		name string
		h    []int16
		want bool
	}{
		{"-1024 outside a circle", slice(-1024, 128, 128, 110, 90, 60, air), true},
		{"0 outside a circle", slice(0, 128, 128, 110, 90, 60, air), true},
		{"a circle cut by the top and bottom rows", slice(0, 127.5, 127.5, 131, 90, 60, air), true},
		{"a circle off the middle", slice(-1024, 120, 136, 100, 80, 50, air), true},
		{"tissue across the circle on a few rows", bump(slice(-1024, 128, 128, 110, 90, 60, air)), true},
		{"the body cut by the circle", slice(-1024, 128, 128, 80, 100, 70, air), true},
		{"no padding: air to the corners", slice(0, 0, 0, 0, 90, 60, air), false},
		{"air of exactly -1024 about an oval body", slice(0, 0, 0, 0, 110, 60, clamped), false},
		{"padding below air is found by its value", slice(-3024, 128, 128, 110, 90, 60, air), false},
	}
	for _, tc := range tests {
		lo, hi := make([]int, n), make([]int, n)
		if got := paddingSpans(tc.h, n, n, lo, hi); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		// Either way the spans end at the padding (for -3024 by its value):
		// the middle row's first pixel is the first that is not padding.
		if tc.want || strings.Contains(tc.name, "value") {
			row := tc.h[128*n : 129*n]
			first := 0
			for first < n && row[first] == tc.h[0] {
				first++
			}
			if lo[128] != first {
				t.Errorf("%s: row 128 spans %d…%d, padding ends at %d", tc.name, lo[128], hi[128], first)
			}
		}
	}
}
