// Package resample puts a scan on voxmine's 1 mm isotropic grid the way
// SimpleITK's ResampleImageFilter does in the notebook voxmine replaces:
// Grid1mm gives the output grid, Linear resamples HU and Nearest resamples
// label masks. The arithmetic follows ITK's operation by operation, so the
// output equals ITK 5.2's to the voxel (golden_test.go checks it against
// ITK's own output under testdata/itkresample).
package resample
