// Package dicomtest writes DICOM CT image files for tests and fixtures:
// the phantom series the tests read, the hostile ones, and the golden
// files ITK and GDCM read (testdata/itkresample/gendicom,
// ingest/dicom/testdata/gencompressed). It lives apart from package
// dicom, which only reads, and imports nothing of it, so that dicom's own
// tests can use it too.
package dicomtest
