package lungseg_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"voxmine/ingest/resample"

	"voxmine/ingest/lungseg"
	"voxmine/ingest/metaimage"
	"voxmine/ingest/synth"
	"voxmine/store"
)

// TestMaskPicture draws docs/lungmask.png: an axial slice through a
// pleural nodule of a full-size synthetic scan, with the computed lung
// outline (green, yellow for the airway) and the generator's truth (red).
// Run with VOXMINE_WRITE_DOCS=1 to (re)write the picture.
func TestMaskPicture(t *testing.T) {
	if os.Getenv("VOXMINE_WRITE_DOCS") == "" {
		t.Skip("set VOXMINE_WRITE_DOCS=1 to write docs/lungmask.png")
	}
	dir := t.TempDir()
	tr, err := synth.Generate(context.Background(), dir, synth.Options{N: 3, Seed: 5, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range tr.Scans {
		var nod *synth.NoduleTruth
		for i := range sc.Nodules {
			if sc.Nodules[i].Pleural && (nod == nil || sc.Nodules[i].Diameter > nod.Diameter) {
				nod = &sc.Nodules[i]
			}
		}
		if nod == nil {
			continue
		}
		h, hu, _ := metaimage.ReadCT(filepath.Join(dir, sc.Path))
		src := h.Geometry()
		grid := resample.Grid1mm(src)
		vol, _ := resample.Linear(context.Background(), hu, src, grid, -1000, 2)
		_, m, _ := metaimage.ReadLabels(filepath.Join(dir, sc.MaskPath))
		truth, _ := resample.Nearest(context.Background(), m, src, grid, 2)
		lungs, err := lungseg.Segment(context.Background(), vol, grid, runtime.GOMAXPROCS(0))
		if err != nil {
			t.Fatal(err)
		}
		got := lungs.Labels
		// Show a slice between the nodule and the carina, where both the
		// bronchi and the nodule are visible when they can be.
		z := sc.VoxelZYX(nod.World, 1)[0]
		ny, nx := grid.Shape[1], grid.Shape[2]
		img := image.NewRGBA(image.Rect(0, 0, nx, ny))
		at := func(a []uint8, y, x int) uint8 {
			if y < 0 || x < 0 || y >= ny || x >= nx {
				return 0
			}
			return a[(z*ny+y)*nx+x]
		}
		edge := func(a []uint8, y, x int, want func(uint8) bool) bool {
			if !want(at(a, y, x)) {
				return false
			}
			return !want(at(a, y-1, x)) || !want(at(a, y+1, x)) || !want(at(a, y, x-1)) || !want(at(a, y, x+1))
		}
		for y := range ny {
			for x := range nx {
				v := float64(vol[(z*ny+y)*nx+x])
				g := uint8(max(0, min(255, (v+1000)/1400*255)))
				c := color.RGBA{g, g, g, 255}
				switch {
				case edge(truth, y, x, store.IsLung):
					c = color.RGBA{255, 60, 60, 255}
				case edge(got, y, x, store.IsLung):
					c = color.RGBA{60, 255, 90, 255}
				case edge(got, y, x, func(l uint8) bool { return l == store.LabelAirway }):
					c = color.RGBA{255, 230, 0, 255}
				}
				img.Set(x, y, c)
			}
		}
		f, err := os.Create(filepath.Join("..", "docs", "lungmask.png"))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
		t.Logf("slice z=%d of %s, nodule %.1f mm, Dice %.4f", z, sc.UID, nod.Diameter, lungseg.Dice(got, truth))
		return
	}
	t.Fatal("no pleural nodule to show")
}
