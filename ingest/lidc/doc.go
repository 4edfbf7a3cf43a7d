// Package lidc reads the radiologists' reads of LIDC-IDRI (the
// LidcReadMessage XML, namespace http://www.nih.gov) and turns them into
// findings the way pylidc and LUNA16 do: every reader's contours become a
// voxel mask on the series' grid (edge maps filled, exclusion ROIs taken
// out); marks of the different readers are clustered into physical nodules;
// a cluster marked by at least K readers, one of whose marks is a nodule of
// 3 mm or more, becomes an annotation (centre and diameter the means of its
// readers', each characteristic their median), and everything else an
// excluded finding that negatives keep away from. See docs/DESIGN.md.
package lidc
