package mine

// Augmentation from the store: a rotated or scaled cube is resampled from a
// larger box around its centre, so its corners hold real anatomy, not the
// padding an augmentation of a stored cube would bring in.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"voxmine/store"
)

// Augment says how each cube is transformed. Every transform is drawn
// from (Output.AugmentSeed, the patch's file name), so a stream's epoch
// gives each sample a new one, reproducibly, and the row records it.
type Augment struct {
	// Flip flips each axis with probability 1/2, about the cube's centre.
	Flip bool
	// Rot90 turns the cube by k quarter turns (k uniform in 0…3) in one of
	// its three planes, drawn uniformly.
	Rot90 bool
	// MaxAngle, in degrees, rotates the cube about its centre voxel by an
	// angle uniform in [−MaxAngle, MaxAngle] about an axis uniform on the
	// sphere, resampled trilinearly from the store.
	MaxAngle float64
	// ScaleLo, ScaleHi scale the anatomy by a factor uniform in [lo, hi]
	// (1.2 shows it 20 % larger), resampled with the rotation. Zero: none.
	ScaleLo, ScaleHi float64
}

// On reports whether any transform is asked for.
func (a Augment) On() bool { return a.Flip || a.Rot90 || a.resamples() }

func (a Augment) resamples() bool { return a.MaxAngle != 0 || a.ScaleLo != 0 || a.ScaleHi != 0 }

func (a Augment) validate() error {
	if a.MaxAngle < 0 || a.MaxAngle > 180 {
		return fmt.Errorf("augment: rotation %g°: want 0 to 180", a.MaxAngle)
	}
	if (a.ScaleLo != 0 || a.ScaleHi != 0) && !(a.ScaleLo >= 0.25 && a.ScaleHi >= a.ScaleLo && a.ScaleHi <= 4) {
		return fmt.Errorf("augment: scale %g to %g: want 0.25 ≤ lo ≤ hi ≤ 4", a.ScaleLo, a.ScaleHi)
	}
	return nil
}

// AugmentColumns are the index columns an augmented run adds: the flipped
// axes ("zyx" letters, "" for none), the quarter turns ("k@plane", plane
// yx, zx or zy: k turns from the plane's first axis towards its second),
// the rotation angle in degrees and the scale, and the 3×3 matrix M
// (z, y, x order, row-major, space-separated) of the resampling:
// the output voxel p of the cube (before flips and turns) takes the store
// at centre + M·(p − size/2), trilinearly.
var AugmentColumns = []string{"aug_flip", "aug_rot90", "aug_angle_deg", "aug_scale", "aug_matrix"}

// transform is one drawn augmentation.
type transform struct {
	flip   [3]bool
	plane  int // 0: (y, x), 1: (z, x), 2: (z, y)
	k      int
	angle  float64
	scale  float64
	m      [9]float64 // zyx
	sample bool       // resample (rotation or scale)
}

var planeNames = [3]string{"yx", "zx", "zy"}

// planeAxes are the array axes (z 0, y 1, x 2) of each plane.
var planeAxes = [3][2]int{{1, 2}, {0, 2}, {0, 1}}

// draw draws one transform.
func (a Augment) draw(r *rand.Rand) transform {
	t := transform{scale: 1, m: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}}
	if a.Flip {
		for i := range t.flip {
			t.flip[i] = r.IntN(2) == 1
		}
	}
	if a.Rot90 {
		t.plane, t.k = r.IntN(3), r.IntN(4)
	}
	if !a.resamples() {
		return t
	}
	t.sample = true
	var axis [3]float64
	for {
		axis = [3]float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		if n := math.Sqrt(axis[0]*axis[0] + axis[1]*axis[1] + axis[2]*axis[2]); n > 1e-9 {
			for i := range axis {
				axis[i] /= n
			}
			break
		}
	}
	t.angle = (2*r.Float64() - 1) * a.MaxAngle
	if a.ScaleHi > 0 {
		t.scale = a.ScaleLo + r.Float64()*(a.ScaleHi-a.ScaleLo)
	}
	// Rodrigues: R = I cosθ + sinθ [u]× + (1 − cosθ) u uᵀ; M = R / scale.
	th := t.angle * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	u := axis
	cross := [9]float64{0, -u[2], u[1], u[2], 0, -u[0], -u[1], u[0], 0}
	for i := range 3 {
		for j := range 3 {
			id := 0.0
			if i == j {
				id = 1
			}
			t.m[i*3+j] = (id*c + s*cross[i*3+j] + (1-c)*u[i]*u[j]) / t.scale
		}
	}
	return t
}

// row is the transform's index values, in AugmentColumns' order.
func (t transform) row() []string {
	flip := ""
	for i, f := range t.flip {
		if f {
			flip += string("zyx"[i])
		}
	}
	rot := ""
	if t.k != 0 {
		rot = fmt.Sprintf("%d@%s", t.k, planeNames[t.plane])
	}
	m := make([]string, 9)
	for i, v := range t.m {
		m[i] = strconv.FormatFloat(v, 'g', 17, 64)
	}
	return []string{flip, rot, strconv.FormatFloat(t.angle, 'f', 4, 64), strconv.FormatFloat(t.scale, 'f', 6, 64), strings.Join(m, " ")}
}

// reach is how far from the centre, in voxels, the transform's cube
// reads: each axis's |M|-row sum times half the cube, plus one for the
// trilinear neighbour.
func (t transform) reach(size int) int {
	r := 0.0
	for i := range 3 {
		r = max(r, math.Abs(t.m[i*3])+math.Abs(t.m[i*3+1])+math.Abs(t.m[i*3+2]))
	}
	return int(math.Ceil(r*float64(size/2))) + 1
}

// resampleCube fills hu (size³) with the store's HU around c through the
// transform's matrix: voxel p takes c + M·(p − size/2), trilinearly, from
// a box read once. Values are rounded to the nearest HU (halves away from
// zero).
func resampleCube(v *store.Volume, c [3]int, size int, t transform, pad int16, hu []int16) error {
	half := size / 2
	reach := t.reach(size)
	side := 2*reach + 1 // every position and its +1 neighbour lie inside
	box := make([]int16, side*side*side)
	if err := v.ReadHU(store.Cube(c[0]-reach, c[1]-reach, c[2]-reach, side), pad, box); err != nil {
		return err
	}
	m := t.m
	plane := side * side
	i := 0
	for pz := range size {
		oz := float64(pz - half)
		for py := range size {
			oy := float64(py - half)
			// Positions in the box along the row: base + x·(m[2], m[5], m[8]).
			bz := float64(reach) + m[0]*oz + m[1]*oy
			by := float64(reach) + m[3]*oz + m[4]*oy
			bx := float64(reach) + m[6]*oz + m[7]*oy
			for px := range size {
				ox := float64(px - half)
				sz, sy, sx := bz+m[2]*ox, by+m[5]*ox, bx+m[8]*ox
				z0, y0, x0 := math.Floor(sz), math.Floor(sy), math.Floor(sx)
				fz, fy, fx := sz-z0, sy-y0, sx-x0
				iz, iy, ix := int(z0), int(y0), int(x0)
				if uint(iz) >= uint(side-1) || uint(iy) >= uint(side-1) || uint(ix) >= uint(side-1) {
					return fmt.Errorf("augment: a sample at (%.2f, %.2f, %.2f) falls out of its %d³ box", sz, sy, sx, side)
				}
				k := iz*plane + iy*side + ix
				c00 := float64(box[k])*(1-fx) + float64(box[k+1])*fx
				c01 := float64(box[k+side])*(1-fx) + float64(box[k+side+1])*fx
				c10 := float64(box[k+plane])*(1-fx) + float64(box[k+plane+1])*fx
				c11 := float64(box[k+plane+side])*(1-fx) + float64(box[k+plane+side+1])*fx
				val := (c00*(1-fy)+c01*fy)*(1-fz) + (c10*(1-fy)+c11*fy)*fz
				hu[i] = int16(max(-32768, min(32767, math.Round(val))))
				i++
			}
		}
	}
	return nil
}

// resampleChannel is resampleCube for a uint8 channel (lung labels, a
// nodule mask): nearest neighbour (the voxel whose centre is nearest,
// halves rounded up), outside voxels 0.
func resampleChannel(read boxReader, c [3]int, size int, t transform, lab []uint8) error {
	half := size / 2
	reach := t.reach(size)
	side := 2*reach + 1
	box := make([]uint8, side*side*side)
	if err := read(store.Cube(c[0]-reach, c[1]-reach, c[2]-reach, side), box); err != nil {
		return err
	}
	m := t.m
	i := 0
	for pz := range size {
		oz := float64(pz - half)
		for py := range size {
			oy := float64(py - half)
			for px := range size {
				ox := float64(px - half)
				z := int(math.Floor(float64(reach) + m[0]*oz + m[1]*oy + m[2]*ox + 0.5))
				y := int(math.Floor(float64(reach) + m[3]*oz + m[4]*oy + m[5]*ox + 0.5))
				x := int(math.Floor(float64(reach) + m[6]*oz + m[7]*oy + m[8]*ox + 0.5))
				lab[i] = 0
				if z >= 0 && y >= 0 && x >= 0 && z < side && y < side && x < side {
					lab[i] = box[(z*side+y)*side+x]
				}
				i++
			}
		}
	}
	return nil
}

// turnCube applies the transform's flips and quarter turns to a size³
// cube in place (scratch is a buffer of the same size).
func turnCube[T any](v, scratch []T, n int, t transform) {
	flipCube(v, n, t.flip)
	if t.k == 0 {
		return
	}
	copy(scratch, v)
	idx := func(z, y, x int) int { return (z*n+y)*n + x }
	for z := range n {
		for y := range n {
			for x := range n {
				p := [3]int{z, y, x}
				a, b := planeAxes[t.plane][0], planeAxes[t.plane][1]
				// k quarter turns from axis a towards axis b, as numpy's
				// rot90(m, k, axes=(a, b)) does.
				q := p
				for range t.k {
					q[a], q[b] = n-1-q[b], q[a]
				}
				v[idx(q[0], q[1], q[2])] = scratch[idx(z, y, x)]
			}
		}
	}
}

// cutAugmented reads the cube of sample s through its transform, with
// the run's orientation, into hu; scratch is a buffer of the same size.
func cutAugmented(v *store.Volume, s Sample, o Output, hu, scratch []int16) error {
	t := s.aug
	if t.sample {
		if err := resampleCube(v, s.Center, o.Size, t, v.Info().PadHU, hu); err != nil {
			return err
		}
		if o.Orient == "lps" {
			_, flip := cubeBox(v, s.Center, o)
			flipCube(hu, o.Size, flip)
		}
	} else if err := cutCube(v, s.Center, o, hu); err != nil {
		return err
	}
	turnCube(hu, scratch, o.Size, t)
	return nil
}

// cutAugmentedChannel is cutAugmented for a uint8 channel.
func cutAugmentedChannel(v *store.Volume, s Sample, o Output, read boxReader, lab, scratch []uint8) error {
	t := s.aug
	if t.sample {
		if err := resampleChannel(read, s.Center, o.Size, t, lab); err != nil {
			return err
		}
		if o.Orient == "lps" {
			_, flip := cubeBox(v, s.Center, o)
			flipCube(lab, o.Size, flip)
		}
	} else if err := cutChannel(v, s.Center, o, read, lab); err != nil {
		return err
	}
	turnCube(lab, scratch, o.Size, t)
	return nil
}
