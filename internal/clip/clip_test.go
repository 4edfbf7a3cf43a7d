package clip

import (
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"short", `"short"`},
		{strings.Repeat("x", 100<<20), `"` + strings.Repeat("x", Max) + `"… (104857600 bytes)`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", Max/2) + `"… (200 bytes)`},
	} {
		if got := Q(tc.in); got != tc.want {
			t.Errorf("Q(%.20s…) = %.80s, want %.80s", tc.in, got, tc.want)
		}
	}
}
