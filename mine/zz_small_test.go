package mine_test

import (
	"context"
	"testing"

	"voxmine/mine"
	"voxmine/store"
)

func BenchmarkSmallRun(b *testing.B) {
	for b.Loop() {
		s, err := store.Open("/tmp/m2/store")
		if err != nil {
			b.Fatal(err)
		}
		o := mine.DefaultOutput(b.TempDir())
		o.Workers = 2
		p := mine.DefaultNegatives()
		p.PerScan = 10
		p.Seed = 7
		if _, err := mine.Negatives(context.Background(), s, o, p); err != nil {
			b.Fatal(err)
		}
	}
}
