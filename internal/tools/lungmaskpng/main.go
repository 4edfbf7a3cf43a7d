// Command lungmaskpng draws docs/lungmask.png: an axial slice through a
// pleural nodule of a full-size phantom, with the computed lung outline
// (green; yellow for the airway) over the generator's truth (red). Run it
// with go generate ./ingest/lungseg, or:
//
//	go run ./internal/tools/lungmaskpng -out docs/lungmask.png
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"runtime"

	"voxmine/ingest/lungseg"
	"voxmine/ingest/resample"
	"voxmine/ingest/synth"
	"voxmine/internal/atomicfile"
	"voxmine/query"
	"voxmine/store/grid"
)

func main() {
	out := flag.String("out", "docs/lungmask.png", "the PNG to write")
	seed := flag.Uint64("seed", 5, "phantom seed")
	flag.Parse()
	if err := draw(*out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "lungmaskpng:", err)
		os.Exit(1)
	}
}

func draw(out string, seed uint64) error {
	o := synth.Options{N: 3, Seed: seed, Workers: 2}
	for i := range o.N {
		sc, hu, m := synth.Draw(o, i)
		var nod *synth.NoduleTruth
		for k := range sc.Nodules {
			if sc.Nodules[k].Pleural && (nod == nil || sc.Nodules[k].Diameter > nod.Diameter) {
				nod = &sc.Nodules[k]
			}
		}
		if nod == nil {
			continue
		}
		src := sc.Geometry()
		g := resample.Grid1mm(src)
		vol, err := resample.Linear(context.Background(), hu, src, g, -1000, 2)
		if err != nil {
			return err
		}
		truth, err := resample.Nearest(context.Background(), m, src, g, 2)
		if err != nil {
			return err
		}
		lungs, err := lungseg.Segment(context.Background(), vol, g, runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		img := slice(vol, truth, lungs.Labels, g.Shape, sc.VoxelZYX(nod.World, 1)[0])
		if err := atomicfile.Write(out, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return err
		}
		fmt.Printf("%s: slice z=%d of %s, nodule %.1f mm, Dice %.4f\n", out, sc.VoxelZYX(nod.World, 1)[0], sc.UID, nod.Diameter, lungseg.Dice(lungs.Labels, truth))
		return nil
	}
	return fmt.Errorf("no pleural nodule in the phantoms of seed %d", seed)
}

// slice draws axial slice z: the CT in the lung window, the truth's lung
// outline in red, the computed one in green and the airway's in yellow.
func slice(vol []int16, truth, got []uint8, shape [3]int, z int) *image.RGBA {
	ny, nx := shape[1], shape[2]
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
	airway := func(l uint8) bool { return l == grid.LabelAirway }
	for y := range ny {
		for x := range nx {
			v := float64(vol[(z*ny+y)*nx+x])
			g := uint8(255 * query.Window(v, query.LungWindowLo, query.LungWindowHi))
			c := color.RGBA{g, g, g, 255}
			switch {
			case edge(truth, y, x, grid.IsLung):
				c = color.RGBA{255, 60, 60, 255}
			case edge(got, y, x, grid.IsLung):
				c = color.RGBA{60, 255, 90, 255}
			case edge(got, y, x, airway):
				c = color.RGBA{255, 230, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}
