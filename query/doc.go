// Package query answers questions about one stored scan by reading only
// the chunks they touch: world ↔ voxel conversion that honours the
// direction matrix, cubes around a centre (ROI), lung tests through the
// per-chunk index, distances to findings, and lung-uniform centre drawing.
package query
