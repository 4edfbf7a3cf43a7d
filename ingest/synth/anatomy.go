package synth

import (
	"math"
	"math/rand/v2"
)

// vec is a point or direction in world millimetres (x, y, z).
type vec [3]float64

func (a vec) add(b vec) vec       { return vec{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec) sub(b vec) vec       { return vec{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec) scale(s float64) vec { return vec{a[0] * s, a[1] * s, a[2] * s} }
func (a vec) dot(b vec) float64   { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec) norm() float64       { return math.Sqrt(a.dot(a)) }

// tube is a capsule: the points within radius of the segment a–b.
type tube struct {
	a, b   vec
	radius float64
}

// dist2 returns the squared distance from p to the segment.
func (t tube) dist2(p vec) float64 {
	ab := t.b.sub(t.a)
	l2 := ab.dot(ab)
	s := 0.0
	if l2 > 0 {
		s = math.Max(0, math.Min(1, p.sub(t.a).dot(ab)/l2))
	}
	d := p.sub(t.a.add(ab.scale(s)))
	return d.dot(d)
}

// lung is one lung: an elliptic cylinder whose cross-section shrinks
// towards the apex and the base.
type lung struct {
	cx, cy, rx, ry float64 // centre and semi-axes at the widest level
	z0, z1         float64 // base and apex (world z)
	label          uint8
}

// scaleAt returns how wide the lung is at height z, 0 outside it: a
// rounded apex above and a flattened, dome-shaped base below.
func (l lung) scaleAt(z float64) float64 {
	if z <= l.z0 || z >= l.z1 {
		return 0
	}
	t := (z - l.z0) / (l.z1 - l.z0) // 0 at the base, 1 at the apex
	if t > 0.6 {
		u := (t - 0.6) / 0.4
		return math.Sqrt(math.Max(0, 1-u*u))
	}
	if t < 0.12 {
		return math.Sqrt(t / 0.12)
	}
	return 1
}

// inside reports whether (x, y, z) lies in the lung.
func (l lung) inside(x, y, z float64) bool {
	s := l.scaleAt(z)
	if s == 0 {
		return false
	}
	dx, dy := (x-l.cx)/(l.rx*s), (y-l.cy)/(l.ry*s)
	return dx*dx+dy*dy < 1
}

// anatomy is the phantom chest of one scan, in world millimetres.
type anatomy struct {
	bx, by, bax, bay float64 // body centre and semi-axes
	fat              float64 // thickness of the subcutaneous fat layer
	fovR             float64 // radius of the field of view (about the image centre)
	fovX, fovY       float64 // centre of the field of view
	pad              int16   // value outside the field of view
	spine            tube
	ribZ             []float64 // world z of rib centres
	tableY           float64   // top of the table
	lungs            [2]lung
	airways          []tube // trachea and main bronchi (lumen radius)
	vessels          []tube
	nodules          []nodule
	gas              []gasPocket // stomach and bowel gas (Options.Hard)
}

// gasPocket is an ellipsoid of gas in the abdomen: air inside the body
// that is not lung, which a lung segmentation must leave out.
type gasPocket struct {
	c vec
	r vec // semi-axes
}

func (g gasPocket) inside(p vec) bool {
	d := p.sub(g.c)
	x, y, z := d[0]/g.r[0], d[1]/g.r[1], d[2]/g.r[2]
	return x*x+y*y+z*z < 1
}

type nodule struct {
	c        vec
	diameter float64
	hu       float64
	pleural  bool
	lung     int
}

// newAnatomy draws a chest that fits a field of view of fov mm centred on
// (fx, fy), spanning world z from zLo to zHi.
//
// hard makes the chest harder to segment, as real scans are: the lungs run
// out through the top of the volume (a scan that cuts them), and the
// lower third holds abdomen with gas pockets (drawn from rg, so that the
// rest of the scan is the same as without).
func newAnatomy(r *rand.Rand, fx, fy, fov, zLo, zHi float64, pads []int16, hard bool, rg *rand.Rand) *anatomy {
	s := math.Min(1.05, fov/360) // anatomy scale
	a := &anatomy{
		fovX: fx, fovY: fy, fovR: fov / 2,
		bx: fx + r.NormFloat64()*3*s, by: fy + 10*s + r.NormFloat64()*3*s,
		bax: (150 + r.Float64()*20) * s, bay: (105 + r.Float64()*15) * s,
		fat: (8 + r.Float64()*10) * s,
		pad: pads[r.IntN(len(pads))],
	}
	a.tableY = a.by + a.bay + 8*s
	a.spine = tube{vec{a.bx, a.by + a.bay - 40*s, zLo - 50}, vec{a.bx, a.by + a.bay - 40*s, zHi + 50}, 17 * s}
	for z := zLo + 10 + r.Float64()*20; z < zHi; z += 22 + r.Float64()*6 {
		a.ribZ = append(a.ribZ, z)
	}
	h := zHi - zLo
	lz0, lz1 := zLo+h*(0.08+0.05*r.Float64()), zHi-h*(0.05+0.05*r.Float64())
	if hard {
		lz0, lz1 = zLo+h*0.35, zHi+25
	}
	for i, side := range []float64{-1, 1} {
		a.lungs[i] = lung{
			cx: a.bx + side*a.bax*(0.42+0.04*r.Float64()), cy: a.by - 8*s + r.NormFloat64()*2,
			rx: a.bax * (0.32 + 0.04*r.Float64()), ry: a.bay * (0.62 + 0.06*r.Float64()),
			z0: lz0 + r.NormFloat64()*5*s, z1: lz1 + r.NormFloat64()*5*s, label: uint8(3 + i),
		}
	}
	// The trachea runs down the midline from above the lungs to the carina,
	// where the two main bronchi leave towards the lungs.
	carina := vec{a.bx, a.by - 20*s, lz0 + (lz1-lz0)*0.62}
	a.airways = append(a.airways, tube{vec{a.bx, a.by - 28*s, zHi + 30}, carina, 8 * s})
	for _, l := range a.lungs {
		end := vec{l.cx + (a.bx-l.cx)*0.35, l.cy - 5*s, carina[2] - 25*s}
		a.airways = append(a.airways, tube{carina, end, 5.5 * s})
		a.vessels = append(a.vessels, growTree(r, end, l, 4.5*s, 5, s)...)
	}
	if hard {
		// The stomach under the left lung, and bowel loops lower down.
		low := math.Min(a.lungs[0].z0, a.lungs[1].z0) - 12
		stomach := vec{a.bx + a.bax*0.35, a.by - a.bay*0.25, low - 18}
		a.gas = append(a.gas, gasPocket{stomach, vec{30 * s, 18 * s, 14 * s}})
		for range 3 {
			c := vec{a.bx + (rg.Float64()-0.5)*a.bax*0.9, a.by - a.bay*(0.1+0.3*rg.Float64()), zLo + 15 + (low-zLo-40)*rg.Float64()}
			a.gas = append(a.gas, gasPocket{c, vec{(10 + 12*rg.Float64()) * s, (8 + 8*rg.Float64()) * s, (8 + 6*rg.Float64()) * s}})
		}
	}
	return a
}

// growTree draws a branching vessel tree from root inside lung l.
func growTree(r *rand.Rand, root vec, l lung, radius float64, depth int, s float64) []tube {
	var out []tube
	var grow func(p vec, dir vec, rad float64, d int)
	grow = func(p vec, dir vec, rad float64, d int) {
		if d == 0 || rad < 0.7 {
			return
		}
		length := (14 + r.Float64()*18) * s * (0.6 + 0.1*float64(d))
		q := p.add(dir.scale(length))
		out = append(out, tube{p, q, rad})
		for range 2 {
			nd := dir.add(vec{r.NormFloat64() * 0.6, r.NormFloat64() * 0.6, r.NormFloat64() * 0.6})
			// Steer back towards the lung centre when heading out.
			toC := vec{l.cx - q[0], l.cy - q[1], (l.z0+l.z1)/2 - q[2]}.scale(0.004)
			nd = nd.add(toC)
			nd = nd.scale(1 / nd.norm())
			grow(q, nd, rad*0.72, d-1)
		}
	}
	for _, dz := range []float64{1, -1, -0.3} {
		dir := vec{(l.cx - root[0]) * 0.02, r.NormFloat64() * 0.3, dz}
		dir = dir.scale(1 / dir.norm())
		grow(root, dir, radius, depth)
	}
	return out
}

// lungAt returns the index of the lung containing (x, y, z), or −1.
func (a *anatomy) lungAt(x, y, z float64) int {
	for i, l := range a.lungs {
		if l.inside(x, y, z) {
			return i
		}
	}
	return -1
}

// shrinkFOV makes the field of view a circle, about the chest's centre,
// that cuts 12 mm off the lateral side of each lung.
func (a *anatomy) shrinkFOV() {
	r := 0.0
	for _, l := range a.lungs {
		r = math.Max(r, math.Abs(l.cx-a.bx)+l.rx)
	}
	a.fovX, a.fovY, a.fovR = a.bx, a.by, r-12
}

// outsideFOV reports whether a point lies outside the reconstruction
// circle, where the scan holds padding.
func (a *anatomy) outsideFOV(x, y float64) bool {
	fx, fy := x-a.fovX, y-a.fovY
	return fx*fx+fy*fy > a.fovR*a.fovR
}

// base returns the tissue value and label at a point, before tubes and
// nodules are drawn: padding, air, table, fat, soft tissue, bone, lung.
func (a *anatomy) base(x, y, z float64) (hu float64, sigma float64, label uint8) {
	if a.outsideFOV(x, y) {
		return float64(a.pad), 0, 0
	}
	dx, dy := (x-a.bx)/a.bax, (y-a.by)/a.bay
	e := dx*dx + dy*dy
	if e >= 1 {
		if y > a.tableY && y < a.tableY+12 && math.Abs(x-a.bx) < a.bax*1.3 {
			return 150, 30, 0
		}
		return -1000, 18, 0
	}
	for i := range a.lungs {
		if a.lungs[i].inside(x, y, z) {
			return -850, 35, a.lungs[i].label
		}
	}
	for _, g := range a.gas {
		if g.inside(vec{x, y, z}) {
			return -1000, 18, 0
		}
	}
	if a.spine.dist2(vec{x, y, z}) < a.spine.radius*a.spine.radius {
		return 650, 120, 0
	}
	// Ribs: short bands of bone just inside the fat layer.
	inner := 1 - a.fat/a.bax
	if e > (inner-0.1)*(inner-0.1) && e < inner*inner && dy < 0.75 {
		for _, rz := range a.ribZ {
			if math.Abs(z-rz-6*dy) < 4.5 {
				return 700, 150, 0
			}
		}
	}
	if e > inner*inner {
		return -100, 15, 0
	}
	return 40, 15, 0
}
