// Package grid is the vocabulary every part of voxmine shares about where
// voxels are: a scan's Geometry (shape, origin, spacing, direction, as ITK
// places a grid), boxes of voxels, and the values of the lung-label
// channel.
//
// It is a leaf: it imports nothing of voxmine's, so a format reader can
// describe the grid it read without pulling in the store's mmap, LZ4 and
// uuid dependencies. Package store re-exports these names for its callers.
package grid
