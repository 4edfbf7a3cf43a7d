package mine

import (
	"fmt"
	"testing"
)

// TestPreviewPicks: the sheet spreads its tiles over the index, and gives
// each kind an equal share, kind after kind, so a rare kind shows.
func TestPreviewPicks(t *testing.T) {
	samples := func(kinds ...any) []Sample { // pairs of kind, count
		var s []Sample
		for i := 0; i < len(kinds); i += 2 {
			for range kinds[i+1].(int) {
				s = append(s, Sample{Kind: kinds[i].(string)})
			}
		}
		return s
	}
	tests := []struct {
		name string
		all  []Sample
		want map[string]int // tiles per kind
	}{
		{"few, one kind", samples("", 10), map[string]int{"": 10}},
		{"many, one kind", samples("", 1000), map[string]int{"": 64}},
		{"dataset", samples("positive", 10, "negative", 500, "hard_negative", 500), map[string]int{"positive": 10, "negative": 27, "hard_negative": 27}},
		{"kinds interleaved", append(samples("hard", 3, "uniform", 3), samples("hard", 100, "uniform", 100)...), map[string]int{"hard": 32, "uniform": 32}},
		{"hard and uniform", samples("hard", 200, "uniform", 200), map[string]int{"hard": 32, "uniform": 32}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			picks := previewPicks(tc.all, 64)
			got := map[string]int{}
			last := map[string]int{}
			for _, j := range picks {
				k := tc.all[j].Kind
				if l, ok := last[k]; ok && j <= l {
					t.Fatalf("picks of kind %q not in index order: %v", k, picks)
				}
				last[k] = j
				got[k]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || len(picks) > 64 {
				t.Errorf("tiles per kind %v, want %v", got, tc.want)
			}
		})
	}
}
