// Package nifti reads NIfTI-1 and NIfTI-2 volumes (.nii and .nii.gz), the
// format of MSD Lung, TotalSegmentator and most converted datasets, and
// places them in the world the way ITK 5.2's NiftiImageIO does: the sform
// when it is set and a rotation, else the qform, else Analyze's default;
// RAS on disk turned into ITK's LPS by negating x and y. Every integer and
// float datatype is read, scl_slope and scl_inter are applied. Format adapts
// it to ingest's source.Format; the series uid is the file name without
// .nii or .nii.gz.
package nifti
