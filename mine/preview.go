package mine

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"voxmine/internal/atomicfile"
)

// previewTile is the centre axial slice of one patch, windowed to grey.
type previewTile struct {
	n     int // the patch's place in the index
	label string
	gray  []uint8
}

func newTile(n int, s Sample, hu []int16, size int, w *Window) previewTile {
	t := previewTile{n: n, gray: make([]uint8, size*size)}
	z := size / 2
	for i := range size * size {
		v := float64(hu[z*size*size+i])
		f := (min(max(v, w.Lo), w.Hi) - w.Lo) / (w.Hi - w.Lo)
		t.gray[i] = uint8(f*255 + 0.5)
	}
	uid := s.UID
	if len(uid) > 6 {
		uid = ".." + uid[len(uid)-5:]
	}
	t.label = fmt.Sprintf("#%d %s", n, uid)
	return t
}

// writePreview lays the tiles out in a grid, each with its index number
// and the end of its series uid, and a cross on the centre voxel.
func writePreview(path string, tiles []previewTile, size int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	cols := 8
	if len(tiles) < cols {
		cols = max(1, len(tiles))
	}
	rows := (len(tiles) + cols - 1) / cols
	scale := max(1, 128/size)
	cell := size*scale + 4
	labelH := 14
	img := image.NewRGBA(image.Rect(0, 0, cols*cell, max(1, rows)*(cell+labelH)))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{20, 20, 30, 255}), image.Point{}, draw.Src)
	face := basicfont.Face7x13
	for k, t := range tiles {
		x0, y0 := (k%cols)*cell+2, (k/cols)*(cell+labelH)+labelH
		for y := range size * scale {
			for x := range size * scale {
				g := t.gray[(y/scale)*size+x/scale]
				img.Set(x0+x, y0+y, color.RGBA{g, g, g, 255})
			}
		}
		c := size / 2 * scale
		for d := -4; d <= 4; d++ {
			img.Set(x0+c+d, y0+c, color.RGBA{255, 80, 80, 255})
			img.Set(x0+c, y0+c+d, color.RGBA{255, 80, 80, 255})
		}
		dr := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{230, 230, 120, 255}), Face: face,
			Dot: fixed.P(x0, y0-3)}
		dr.DrawString(t.label)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
