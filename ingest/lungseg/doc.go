// Package lungseg computes a lung mask of a CT on the 1 mm grid, in the
// labels of LUNA16's seg-lungs masks: 3 and 4 for the two lungs, 5 for the
// trachea and main bronchi. It is what ingest stores in a scan's label
// channel when no mask file is given.
//
// The steps (Segment's doc has them in order) live in their own files:
// removing the air around the body and outside a cut field of view
// (fovcut.go), growing the airway (airway.go), 3-D components and the
// closing that takes vessels and pleural nodules into the lung
// (morphology.go, edt.go), and the byte scans that make the flood fills
// fast (bytescan.go). Dice compares two masks; Judge is the one plausibility
// rule, for computed masks and (PlausibilityFlags) mask files alike.
package lungseg

//go:generate go run ../../internal/tools/lungmaskpng -out ../../docs/lungmask.png
