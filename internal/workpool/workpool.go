// Package workpool is the one way voxmine spreads work over goroutines:
// scans over ingest and mining workers, slices over a scan's cores, chunks
// over compressors. Every helper takes a context and a worker budget, so a
// caller that runs two scans at once on four cores can give each scan two
// workers instead of each taking all four.
package workpool

import (
	"context"
	"sync"
	"sync/atomic"
)

// Each calls fn(state, i) for every i in [0, n), each once, on up to
// workers goroutines. Each goroutine makes its own state with init (a
// buffer, an encoder) and reuses it for every item it takes. Items are
// handed out in order. Each stops handing out items at the first error fn
// returns or when ctx is done, lets the items in flight finish, and returns
// that error (or ctx's).
func Each[S any](ctx context.Context, n, workers int, init func() S, fn func(s S, i int) error) error {
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var once sync.Once
	var first error
	stop := func(err error) { once.Do(func() { first = err }) }
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := init()
			for !failed.Load() {
				if err := ctx.Err(); err != nil {
					stop(err)
					failed.Store(true)
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(s, i); err != nil {
					stop(err)
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Run is Each without per-worker state.
func Run(ctx context.Context, n, workers int, fn func(i int) error) error {
	return Each(ctx, n, workers, func() struct{} { return struct{}{} }, func(_ struct{}, i int) error { return fn(i) })
}

// Slabs splits [0, n) into up to workers contiguous ranges [lo, hi), one per
// goroutine, for work whose neighbouring items share state (resampling
// reuses the input planes of the previous output slice). It returns the
// first error; fn should check ctx itself in long ranges.
func Slabs(ctx context.Context, n, workers int, fn func(lo, hi int) error) error {
	workers = max(1, min(workers, n))
	return Run(ctx, workers, workers, func(w int) error {
		return fn(n*w/workers, n*(w+1)/workers)
	})
}
