package lungseg

import (
	"math/rand/v2"
	"testing"
)

// TestByteScans checks the eight-at-a-time scans against pixel-by-pixel
// loops on random rows of few values, at every start and end.
func TestByteScans(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + r.IntN(40)
		s := make([]uint8, n)
		for i := range s {
			s[i] = uint8(r.IntN(2 + trial%3))
		}
		for i := range n {
			for end := i; end <= n; end++ {
				for v := range uint8(3) {
					want := i
					for want < end && s[want] == v {
						want++
					}
					if got := runEnd(s, i, end, v); got != want {
						t.Fatalf("runEnd(%v, %d, %d, %d) = %d, want %d", s, i, end, v, got, want)
					}
					want = i
					for want < end && s[want] != v {
						want++
					}
					if got := nextByte(s, i, end, v); got != want {
						t.Fatalf("nextByte(%v, %d, %d, %d) = %d, want %d", s, i, end, v, got, want)
					}
				}
			}
			for start := 0; start <= i; start++ {
				want := i
				for want > start && s[want-1] == s[i] {
					want--
				}
				if got := runStart(s, i, start, s[i]); got != want {
					t.Fatalf("runStart(%v, %d, %d) = %d, want %d", s, i, start, got, want)
				}
			}
			for j := i; j < n; j++ {
				c := append([]uint8(nil), s...)
				fillRun(c, i, j, 7)
				for k := range c {
					if (k >= i && k <= j) != (c[k] == 7) {
						t.Fatalf("fillRun(%v, %d, %d) gave %v", s, i, j, c)
					}
				}
			}
		}
	}
}
