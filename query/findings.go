package query

import (
	"math"

	"voxmine/store"
)

// UnknownDiameter is the diameter given to findings listed with −1, as the
// official LUNA16 evaluator does (store.UnknownDiameter).
const UnknownDiameter = store.UnknownDiameter

// Sphere is a finding as a ball in world millimetres.
type Sphere struct {
	Center [3]float64 // x, y, z
	Radius float64
}

// SphereOf turns a CSV finding into a ball; diameter −1 (or 0, for
// candidates, which have none) counts as UnknownDiameter.
func SphereOf(f store.Finding) Sphere {
	d := f.Diameter
	if d <= 0 {
		d = UnknownDiameter
	}
	return Sphere{Center: [3]float64{f.X, f.Y, f.Z}, Radius: d / 2}
}

func dist(a, b [3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return math.Sqrt(dx*dx + dy*dy + dz*dz)
}

// Nearest returns the distance from p to the nearest of the spheres,
// measured to its centre or, with surface, to its surface (negative when p
// is inside it), and which sphere that is. With no spheres it returns
// +Inf and −1.
func Nearest(p [3]float64, spheres []Sphere, surface bool) (float64, int) {
	best, at := math.Inf(1), -1
	for i, s := range spheres {
		d := dist(p, s.Center)
		if surface {
			d -= s.Radius
		}
		if d < best {
			best, at = d, i
		}
	}
	return best, at
}

// CubeTouches reports whether a sphere reaches into the world-space box
// of a cube: the box's corners are lo and hi (any order per axis).
func CubeTouches(lo, hi [3]float64, s Sphere) bool {
	d2 := 0.0
	for k := range 3 {
		a, b := math.Min(lo[k], hi[k]), math.Max(lo[k], hi[k])
		c := s.Center[k]
		switch {
		case c < a:
			d2 += (a - c) * (a - c)
		case c > b:
			d2 += (c - b) * (c - b)
		}
	}
	return d2 < s.Radius*s.Radius
}

// CubeWorldBounds returns the world corners of the region a cube of edge
// size around voxel c covers, voxel edges included (each voxel reaches
// half a voxel beyond its centre).
func CubeWorldBounds(g store.Geometry, c [3]int, size int) (lo, hi [3]float64) {
	b := CubeBox(c, size)
	lo = IndexToWorld(g, [3]float64{float64(b.Z) - 0.5, float64(b.Y) - 0.5, float64(b.X) - 0.5})
	hi = IndexToWorld(g, [3]float64{float64(b.Z+b.D) - 0.5, float64(b.Y+b.H) - 0.5, float64(b.X+b.W) - 0.5})
	return lo, hi
}
