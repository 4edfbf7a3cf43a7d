package mine_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"voxmine/mine"
	"voxmine/store"
	"voxmine/store/storetest"
)

// TestOrientLPS: with --orient lps every cube's axes run to the patient's
// left, posterior and superior, mirrored scans included: one voxel along
// each cube axis is one voxel towards +x, +y, +z in the world, and the
// centre stays at index size/2.
func TestOrientLPS(t *testing.T) {
	f, s := setup(t)
	mirrored := 0
	for _, sc := range f.truth.Scans {
		if sc.Mirrored {
			mirrored++
		}
	}
	if mirrored == 0 {
		t.Fatal("the fixture has no mirrored scan")
	}
	o := mine.DefaultOutput(t.TempDir())
	o.Size, o.DType, o.Orient = 8, mine.I16, "lps"
	p := mine.DefaultNegatives()
	p.PerScan = 3
	res, err := mine.Negatives(context.Background(), s, o, p)
	if err != nil {
		t.Fatal(err)
	}
	assertLPS(t, s, o.Dir, res.Index)
}

// assertLPS checks every 8³ int16 cube of an --orient lps run: one voxel
// along each cube axis is one voxel towards +x, +y, +z in the world.
func assertLPS(t *testing.T, s *store.Store, dir, index string) {
	t.Helper()
	checked := 0
	for _, r := range readIndex(t, index) {
		if r["orient"] != "lps" {
			t.Fatalf("orient column %q", r["orient"])
		}
		info, _ := storetest.Lookup(t, s, r["seriesuid"])
		c := centre(t, r)
		b, _ := os.ReadFile(filepath.Join(dir, r["patch_file"]))
		cube := b[len(mine.NPYHeader(mine.I16, 8, 8, 8)):]
		at := func(z, y, x int) int16 { return int16(binary.LittleEndian.Uint16(cube[2*((z*8+y)*8+x):])) }
		v, _ := s.OpenVolume(info.UID)
		hu := func(z, y, x int) int16 {
			one := make([]int16, 1)
			v.ReadHU(store.Box{Z: z, Y: y, X: x, D: 1, H: 1, W: 1}, info.PadHU, one)
			return one[0]
		}
		d := info.Grid.Direction
		sx, sy, sz := int(d[0]), int(d[4]), int(d[8])
		for k := -3; k <= 3; k++ {
			if at(4, 4, 4+k) != hu(c[0], c[1], c[2]+k*sx) || at(4, 4+k, 4) != hu(c[0], c[1]+k*sy, c[2]) || at(4+k, 4, 4) != hu(c[0]+k*sz, c[1], c[2]) {
				t.Fatalf("%s (direction %v): cube axis %d does not run to +world", info.UID, d, k)
			}
		}
		v.Close()
		checked++
	}
	if checked == 0 {
		t.Fatal("no patches")
	}
}
