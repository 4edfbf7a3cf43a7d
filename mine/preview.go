package mine

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"voxmine/internal/atomicfile"
	"voxmine/query"
)

// previewTile is the centre axial slice of one patch as grey levels.
type previewTile struct {
	n     int // the patch's place in the index
	label string
	gray  []uint8
}

// tileFromFile reads the centre slice of patch n back from its file and
// turns it into grey levels through the run's window.
func tileFromFile(n int, s Sample, o Output, w *Window) (previewTile, error) {
	b, err := os.ReadFile(filepath.Join(o.Dir, s.File))
	if err != nil {
		return previewTile{}, err
	}
	size := o.Size
	es := o.DType.Size()
	data := b[len(NPYHeader(o.DType, size, size, size)):]
	t := previewTile{n: n, gray: make([]uint8, size*size)}
	z := size / 2
	for i := range size * size {
		p := data[(z*size*size+i)*es:]
		var f float64
		switch o.DType {
		case F16:
			f = float64(half(binary.LittleEndian.Uint16(p)))
		case F32:
			f = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		default:
			f = query.Window(float64(int16(binary.LittleEndian.Uint16(p))), w.Lo, w.Hi)
		}
		t.gray[i] = uint8(min(max(f, 0), 1)*255 + 0.5)
	}
	uid := s.UID
	if len(uid) > 6 {
		uid = ".." + uid[len(uid)-5:]
	}
	t.label = fmt.Sprintf("#%d %s", n, uid)
	if s.Kind != "" {
		t.label = fmt.Sprintf("#%d %s", n, s.Kind)
	}
	return t, nil
}

// previewPicks chooses up to n samples for the preview sheet, spread
// evenly over the index. Samples of several kinds (a dataset's positives,
// negatives and hard negatives; hard and uniform negatives) are grouped:
// each kind gets an equal share of the sheet, kind after kind in the order
// they first appear, so a rare kind is not lost among a common one.
func previewPicks(all []Sample, n int) []int {
	var order []string
	groups := map[string][]int{}
	for i, s := range all {
		if _, ok := groups[s.Kind]; !ok {
			order = append(order, s.Kind)
		}
		groups[s.Kind] = append(groups[s.Kind], i)
	}
	var picks []int
	for g, k := range order {
		idx := groups[k]
		// The share left for this kind: what the earlier kinds did not use,
		// split over the kinds still to come.
		share := min(len(idx), (n-len(picks))/(len(order)-g))
		for i := range share {
			picks = append(picks, idx[i*len(idx)/share])
		}
	}
	return picks
}

// half converts IEEE 754 binary16 to float32.
func half(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal
		return math.Float32frombits(sign) + float32(mant)*float32(math.Ldexp(1, -24))*sign1(sign)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

func sign1(sign uint32) float32 {
	if sign != 0 {
		return -1
	}
	return 1
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
	footH := 18 // a line that says what the tiles are
	img := image.NewRGBA(image.Rect(0, 0, max(cols*cell, 740), max(1, rows)*(cell+labelH)+footH))
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
	foot := font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{200, 200, 200, 255}), Face: face,
		Dot: fixed.P(4, max(1, rows)*(cell+labelH)+13)}
	foot.DrawString("middle axial slice of each cube, + centre, #n index row; anterior up (mirrored scans: down unless --orient lps)")
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
