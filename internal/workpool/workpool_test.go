package workpool

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestEachVisitsEveryItemOnce(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{0, 3}, {1, 4}, {7, 1}, {100, 3}, {1000, 8}} {
		seen := make([]atomic.Int32, tc.n)
		var states atomic.Int32
		err := Each(context.Background(), tc.n, tc.workers, func() *int { states.Add(1); return new(int) }, func(s *int, i int) error {
			*s++
			seen[i].Add(1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d workers=%d: item %d seen %d times", tc.n, tc.workers, i, seen[i].Load())
			}
		}
		if got := int(states.Load()); got > max(1, min(tc.n, tc.workers)) {
			t.Errorf("n=%d workers=%d: %d states made", tc.n, tc.workers, got)
		}
	}
}

func TestEachStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var done atomic.Int32
	err := Run(context.Background(), 10000, 4, func(i int) error {
		done.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if done.Load() > 1000 {
		t.Errorf("%d items ran after the error", done.Load())
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int32
	err := Run(ctx, 10000, 2, func(i int) error {
		if done.Add(1) == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if done.Load() > 100 {
		t.Errorf("%d items ran after cancel", done.Load())
	}
}

func TestSlabsCoverTheRange(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{1, 4}, {10, 3}, {97, 2}, {5, 5}} {
		cover := make([]atomic.Int32, tc.n)
		var slabs atomic.Int32
		err := Slabs(context.Background(), tc.n, tc.workers, func(lo, hi int) error {
			slabs.Add(1)
			for i := lo; i < hi; i++ {
				cover[i].Add(1)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range cover {
			if cover[i].Load() != 1 {
				t.Fatalf("n=%d: item %d covered %d times", tc.n, i, cover[i].Load())
			}
		}
		if int(slabs.Load()) != min(tc.n, tc.workers) {
			t.Errorf("n=%d workers=%d: %d slabs", tc.n, tc.workers, slabs.Load())
		}
	}
}
