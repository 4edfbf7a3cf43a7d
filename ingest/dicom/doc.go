// Package dicom reads CT series from DICOM files, whatever their names
// (.dcm, no suffix, with the DICM preamble or without), the way ITK 5.2's
// GDCMSeriesFileNames and ImageSeriesReader do: files grouped by
// SeriesInstanceUID, sorted along the normal of ImageOrientationPatient,
// the origin at the first slice's ImagePositionPatient, the in-plane
// spacing from PixelSpacing (row, column), the slice spacing from the
// positions, and HU = stored × RescaleSlope + RescaleIntercept per slice.
//
// Only the header elements needed for geometry and HU are decoded; the
// rest, sequences included, is skipped by length. The transfer syntaxes
// read are implicit and explicit VR little endian, explicit VR big endian
// and deflated explicit VR little endian, and four compressed (encapsulated)
// pixel data families that archives store CT in: JPEG 2000 (.4.90, .4.91;
// package j2k: lossless sample for sample as OpenJPEG, lossy within one
// unit), lossless JPEG (.4.57, .4.70; package ljpeg), JPEG-LS (.4.80,
// .4.81; package jpegls) and RLE (.5). Lossy JPEG (8 or 12 bits, not CT's)
// is refused with an UnsupportedError that says how to convert it
// (gdcmconv --raw).
//
// A multi-frame image (Enhanced CT, Legacy Converted Enhanced CT) is one
// Slice per frame (Slice.Split), each placed and rescaled by the shared
// and per-frame functional groups (ITK takes the frames in the order
// stored, placed by the first); its frames are then sorted and read like a folder of
// single-frame files.
//
// Where real archives depart from a regular stack, the package says so:
// uneven spacing or a missing slice is interpolated onto an even grid on
// the slices' true positions (ITK would assume even spacing), more than
// two missing slices in a row fail the series, duplicate
// positions, gantry tilt and mixed sizes fail the series with the files
// named. The same SOP instance twice is read once, and an image with no
// position in the patient (a dose report, a screenshot) is skipped. Format adapts it to ingest's source.Format.
package dicom
