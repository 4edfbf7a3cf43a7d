package nifti

import (
	"fmt"
	"math"

	"voxmine/store/grid"
)

// affine returns the grid's spacing, origin and direction in ITK's LPS
// world, choosing the transform as ITK 5.2's NiftiImageIO does (each rule
// below was checked against ITK 5.2 on a file made for it, see
// testdata/itkresample/nifti):
//
//   - the sform when sform_code is 1 (scanner) or 2 (aligned) and its 3×3
//     part divided by the voxel sizes (pixdim, all positive) is
//     orthonormal;
//   - else the qform when qform_code is set: the quaternion's rotation, the
//     third axis flipped when qfac (pixdim[0]) is −1 and any axis whose
//     pixdim is negative flipped too;
//   - else the sform of another code (3, Talairach; 4, MNI) on the same
//     condition;
//   - else, with neither code set, Analyze's default: no rotation, origin 0
//     (and no RAS to LPS turn);
//   - else there is no usable transform: ITK refuses the file, and so does
//     voxmine.
//
// The voxel sizes are always |pixdim|. NIfTI's world is RAS and ITK's LPS:
// x and y change sign.
func (h *Header) affine() (spacing, origin [3]float64, dir [9]float64, err error) {
	for i := range 3 {
		spacing[i] = math.Abs(h.Pixdim[i+1])
	}
	var m [3][3]float64 // columns: the world direction of each voxel axis, RAS
	var off [3]float64
	sformOK := h.SformCode > 0 && h.sformIsRotation(spacing)
	switch {
	case sformOK && (h.SformCode == 1 || h.SformCode == 2):
		m, off = h.sformRotation(spacing)
	case h.QformCode > 0:
		m = h.quaternRotation()
		off = h.Qoffset
	case sformOK:
		m, off = h.sformRotation(spacing)
	case h.SformCode == 0 && h.QformCode == 0:
		return spacing, origin, grid.Identity, nil
	default:
		return spacing, origin, dir, fmt.Errorf("sform (code %d) is not a rotation times pixdim %v, and there is no qform: no orthonormal transform", h.SformCode, h.Pixdim[1:])
	}
	for r := range 3 {
		sign := 1.0
		if r < 2 {
			sign = -1 // RAS → LPS
		}
		origin[r] = sign*off[r] + 0 // + 0 turns −0 into 0
		for c := range 3 {
			dir[r*3+c] = sign*m[r][c] + 0
		}
	}
	return spacing, origin, dir, nil
}

// sformRotation is the sform's 3×3 part with the voxel sizes divided out,
// and its offset.
func (h *Header) sformRotation(spacing [3]float64) (m [3][3]float64, off [3]float64) {
	for r := range 3 {
		for c := range 3 {
			m[r][c] = h.Srow[r][c] / spacing[c]
		}
		off[r] = h.Srow[r][3]
	}
	return m, off
}

// sformIsRotation reports whether the sform's 3×3 part divided by the voxel
// sizes is orthonormal (within 1e-4): a rotation, no shear, no other scale.
// A negative pixdim disqualifies the sform too (its columns' lengths must
// equal pixdim, sign included), as in ITK 5.2.
func (h *Header) sformIsRotation(spacing [3]float64) bool {
	for c := range 3 {
		if h.Pixdim[c+1] < 0 {
			return false
		}
	}
	m, _ := h.sformRotation(spacing)
	for a := range 3 {
		for b := a; b < 3; b++ {
			dot := m[0][a]*m[0][b] + m[1][a]*m[1][b] + m[2][a]*m[2][b]
			want := 0.0
			if a == b {
				want = 1
			}
			if !(math.Abs(dot-want) <= 1e-4) {
				return false
			}
		}
	}
	return true
}

// quaternRotation is the qform's rotation (nifti1.h, method 2), with the
// third column negated when qfac is −1.
func (h *Header) quaternRotation() [3][3]float64 {
	b, c, d := h.Quatern[0], h.Quatern[1], h.Quatern[2]
	a := 1 - (b*b + c*c + d*d)
	if a < 1e-7 { // a 180° rotation: renormalise b, c, d
		s := 1 / math.Sqrt(b*b+c*c+d*d)
		b, c, d, a = b*s, c*s, d*s, 0
	} else {
		a = math.Sqrt(a)
	}
	r := [3][3]float64{
		{a*a + b*b - c*c - d*d, 2 * (b*c - a*d), 2 * (b*d + a*c)},
		{2 * (b*c + a*d), a*a + c*c - b*b - d*d, 2 * (c*d - a*b)},
		{2 * (b*d - a*c), 2 * (c*d + a*b), a*a + d*d - c*c - b*b},
	}
	if h.Pixdim[0] < 0 {
		for i := range 3 {
			r[i][2] = -r[i][2]
		}
	}
	for c := range 3 { // a negative voxel size flips its axis
		if h.Pixdim[c+1] < 0 {
			for i := range 3 {
				r[i][c] = -r[i][c]
			}
		}
	}
	return r
}
