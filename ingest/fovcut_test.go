package ingest

import (
	"fmt"
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
