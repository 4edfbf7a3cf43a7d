package mine

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"voxmine/query"
	"voxmine/store"
)

// Label colours of LungPicture: the right lung, the left lung, the airway.
var labelColours = map[uint8]color.RGBA{
	store.LabelLungA:  {40, 120, 255, 255},
	store.LabelLungB:  {40, 220, 80, 255},
	store.LabelAirway: {255, 60, 40, 255},
}

// LungPicture draws the way a person checks a lung mask: an axial, a
// coronal and a sagittal slice through the middle of the lungs, HU in the
// lung window [−1000, 400] as grey, the labels laid over it in colour
// (blue: label 3, the right lung; green: 4, the left; red: 5, the
// airway). Slices are shown as radiologists read them: the patient's right
// on the left of the axial and coronal views, anterior up in the axial
// view, superior up in the others, whatever the scan's stored direction.
// Only the chunks of the three slices are read.
func LungPicture(v *store.Volume, w io.Writer) error {
	info := v.Info()
	sh := info.Grid.Shape
	c := lungCentre(v)
	dir := info.Grid.Direction
	flipX, flipY := dir[0] < 0, dir[4] < 0
	// The three planes, as (rows, columns) of voxels.
	axial, err := plane(v, store.Box{Z: c[0], Y: 0, X: 0, D: 1, H: sh[1], W: sh[2]})
	if err != nil {
		return err
	}
	coronal, err := plane(v, store.Box{Z: 0, Y: c[1], X: 0, D: sh[0], H: 1, W: sh[2]})
	if err != nil {
		return err
	}
	sagittal, err := plane(v, store.Box{Z: 0, Y: 0, X: c[2], D: sh[0], H: sh[1], W: 1})
	if err != nil {
		return err
	}
	type panel struct {
		title   string
		rows    int
		cols    int
		at      func(r, col int) int // index into the plane's values
		hu      []int16
		lab     []uint8
		caption string
	}
	nz, ny, nx := sh[0], sh[1], sh[2]
	x := func(col int) int { // screen column → x index: patient right on the left
		if flipX {
			return nx - 1 - col
		}
		return col
	}
	y := func(row int) int { // screen row → y index: anterior up
		if flipY {
			return ny - 1 - row
		}
		return row
	}
	panels := []panel{
		{"axial", ny, nx, func(r, col int) int { return y(r)*nx + x(col) }, axial.hu, axial.lab, fmt.Sprintf("axial z=%d, anterior up", c[0])},
		{"coronal", nz, nx, func(r, col int) int { return (nz-1-r)*nx + x(col) }, coronal.hu, coronal.lab, fmt.Sprintf("coronal y=%d, superior up", c[1])},
		{"sagittal", nz, ny, func(r, col int) int { return (nz-1-r)*ny + y(col) }, sagittal.hu, sagittal.lab, fmt.Sprintf("sagittal x=%d, anterior left", c[2])},
	}
	const gap, top = 8, 18
	width, height := gap, 0
	for _, p := range panels {
		width += p.cols + gap
		height = max(height, p.rows)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height+top+gap+16))
	for i := range img.Pix {
		img.Pix[i] = 255
		if i%4 != 3 {
			img.Pix[i] = 24
		}
	}
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{230, 230, 230, 255}), Face: basicfont.Face7x13}
	left := gap
	for _, p := range panels {
		for r := range p.rows {
			for col := range p.cols {
				i := p.at(r, col)
				g := uint8(255 * query.Window(float64(p.hu[i]), query.LungWindowLo, query.LungWindowHi))
				px := color.RGBA{g, g, g, 255}
				if lc, ok := labelColours[p.lab[i]]; ok {
					px = blend(px, lc, 0.4)
				}
				img.SetRGBA(left+col, top+r, px)
			}
		}
		d.Dot = fixed.P(left, 13)
		d.DrawString(p.caption)
		left += p.cols + gap
	}
	d.Dot = fixed.P(gap, top+height+gap+11)
	d.DrawString(fmt.Sprintf("%s  blue 3 right lung, green 4 left lung, red 5 airway; labels: %s", short(info.UID), info.LabelSource))
	return png.Encode(w, img)
}

func short(uid string) string {
	if len(uid) > 24 {
		return "…" + uid[len(uid)-23:]
	}
	return uid
}

func blend(a, b color.RGBA, t float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

type planeData struct {
	hu  []int16
	lab []uint8
}

// plane reads the HU and labels of a one-voxel-thick box.
func plane(v *store.Volume, b store.Box) (planeData, error) {
	p := planeData{hu: make([]int16, b.Len()), lab: make([]uint8, b.Len())}
	if err := v.ReadHU(b, v.Info().PadHU, p.hu); err != nil {
		return p, err
	}
	if v.HasLabels() {
		if err := v.ReadLabels(b, 0, p.lab); err != nil {
			return p, err
		}
	}
	return p, nil
}

// lungCentre is the lung-count-weighted centre of the chunks holding lung,
// from the chunk index (the volume's centre when there is none).
func lungCentre(v *store.Volume) [3]int {
	st := v.Stats()
	sh := v.Shape()
	var sum [3]float64
	n := 0.0
	for ci := range st.Len() {
		l := float64(st.LungCount(ci))
		if l == 0 {
			continue
		}
		cz, cy, cx := st.Coords(ci)
		for a, cc := range [3]int{cz, cy, cx} {
			sum[a] += l * (float64(cc*store.ChunkSize) + store.ChunkSize/2)
		}
		n += l
	}
	if n == 0 {
		return [3]int{sh[0] / 2, sh[1] / 2, sh[2] / 2}
	}
	var c [3]int
	for a := range 3 {
		c[a] = min(max(int(sum[a]/n), 0), sh[a]-1)
	}
	return c
}
