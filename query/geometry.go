package query

import (
	"math"

	"voxmine/store"
)

// WorldToIndex returns the continuous voxel index (z, y, x) of a world
// point (x, y, z in mm): index = diag(1/spacing)·Dᵀ·(world − origin). The
// direction matrix matters: LUNA16's 14 mirrored scans put every nodule
// outside the volume when it is ignored.
func WorldToIndex(g store.Geometry, world [3]float64) [3]float64 { return g.Index(world) }

// IndexToWorld returns the world point (x, y, z) of a continuous voxel
// index (z, y, x).
func IndexToWorld(g store.Geometry, idx [3]float64) [3]float64 { return g.World(idx) }

// NearestVoxel returns the voxel (z, y, x) nearest a world point; it may
// lie outside the volume.
func NearestVoxel(g store.Geometry, world [3]float64) [3]int {
	c := WorldToIndex(g, world)
	return [3]int{int(math.Floor(c[0] + 0.5)), int(math.Floor(c[1] + 0.5)), int(math.Floor(c[2] + 0.5))}
}

// VoxelWorld returns the world point of voxel v (z, y, x).
func VoxelWorld(g store.Geometry, v [3]int) [3]float64 {
	return IndexToWorld(g, [3]float64{float64(v[0]), float64(v[1]), float64(v[2])})
}

// Inside reports whether voxel v lies in a volume of the given shape.
func Inside(shape [3]int, v [3]int) bool {
	return v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[0] < shape[0] && v[1] < shape[1] && v[2] < shape[2]
}

// CubeBox returns the box a cube of edge size centred on c covers:
// [c − size/2, c + size/2) on each axis, the notebook's convention (the
// centre is the voxel just after the middle for even sizes).
func CubeBox(c [3]int, size int) store.Box {
	h := size / 2
	return store.Box{Z: c[0] - h, Y: c[1] - h, X: c[2] - h, D: size, H: size, W: size}
}

// CubeInside reports whether the cube of edge size around c lies wholly
// in a volume of the given shape.
func CubeInside(shape [3]int, c [3]int, size int) bool {
	b := CubeBox(c, size)
	return b.Z >= 0 && b.Y >= 0 && b.X >= 0 && b.Z+b.D <= shape[0] && b.Y+b.H <= shape[1] && b.X+b.W <= shape[2]
}

// Window maps a HU value into [0, 1] through the window [lo, hi]:
// (clip(hu, lo, hi) − lo) / (hi − lo), in float64, as NumPy computes the
// notebook's windowing. It is the one definition of the windowing: the
// patch encoder's lookup table, the HU lung test and the pictures use it.
func Window(hu, lo, hi float64) float64 {
	return (min(max(hu, lo), hi) - lo) / (hi - lo)
}

// Lung window: LUNA16's usual [−1000, 400] HU.
const (
	LungWindowLo = -1000.0
	LungWindowHi = 400.0
)
