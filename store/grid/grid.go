package grid

import "math"

// Geometry places a voxel grid in the world, the way ITK and MetaImage do.
// Shape is in array order (z, y, x); Origin, Spacing and the axes of
// Direction are in ITK order (x, y, z). Direction is row-major: column i is
// the world direction of image axis i, so world = Origin + D·diag(Spacing)·(i, j, k).
type Geometry struct {
	Shape     [3]int     `json:"shape_zyx"`
	Origin    [3]float64 `json:"origin_xyz"`
	Spacing   [3]float64 `json:"spacing_xyz"`
	Direction [9]float64 `json:"direction"`
}

// Identity is the direction of an unrotated scan.
var Identity = [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}

// Voxels returns the number of voxels of the grid.
func (g Geometry) Voxels() int { return g.Shape[0] * g.Shape[1] * g.Shape[2] }

// Box is an axis-aligned block of voxels: its first voxel (Z, Y, X) and
// its size (D, H, W) in array order. A box may stick out of the volume.
type Box struct {
	Z, Y, X int
	D, H, W int
}

// Len returns the number of voxels of the box.
func (b Box) Len() int { return b.D * b.H * b.W }

// Cube returns the size³ box that starts at (z, y, x).
func Cube(z, y, x, size int) Box { return Box{z, y, x, size, size, size} }

// Values of the label channel, as in LUNA16's seg-lungs masks: 3 and 4 are
// the two lungs (3 the patient's right, smaller LPS x), 5 the airway.
const (
	LabelLungA  = 3
	LabelLungB  = 4
	LabelAirway = 5
)

// IsLung reports whether a label value marks lung parenchyma.
func IsLung(label uint8) bool { return label == LabelLungA || label == LabelLungB }

// Index returns the continuous voxel index (z, y, x) of a world point
// (x, y, z in mm): index = diag(1/spacing)·Dᵀ·(world − origin). The
// direction matrix matters: LUNA16's 14 mirrored scans put every nodule
// outside the volume when it is ignored.
func (g Geometry) Index(world [3]float64) [3]float64 {
	var d [3]float64
	for k := range 3 {
		d[k] = world[k] - g.Origin[k]
	}
	var idx [3]float64
	for a := range 3 { // image axis a: x, y, z
		s := 0.0
		for r := range 3 {
			s += g.Direction[r*3+a] * d[r] // Dᵀ: column a of D
		}
		idx[2-a] = s / g.Spacing[a]
	}
	return idx
}

// World returns the world point (x, y, z in mm) of a continuous voxel
// index (z, y, x): the inverse of Index.
func (g Geometry) World(idx [3]float64) [3]float64 {
	w := g.Origin
	for r := range 3 {
		for a := range 3 {
			w[r] += g.Direction[r*3+a] * g.Spacing[a] * idx[2-a]
		}
	}
	return w
}

// Contains reports whether the voxel nearest a world point lies in the grid.
func (g Geometry) Contains(world [3]float64) bool {
	idx := g.Index(world)
	for a := range 3 {
		v := math.Floor(idx[a] + 0.5)
		if v < 0 || v >= float64(g.Shape[a]) || v != v {
			return false
		}
	}
	return true
}
