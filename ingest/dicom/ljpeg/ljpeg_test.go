package ljpeg

import (
	"bytes"
	"errors"
	"testing"

	"voxmine/ingest/dicom/internal/fixture"
)

// streams returns the JPEG streams of the DICOM fixtures (their decoded
// values are checked against the source slices by the dicom package's
// tests).
func streams(tb testing.TB) map[string][]byte {
	return fixture.JPEGStreams(tb, "..", "*-jpegll-*.dcm")
}

// decode is Decode as fixture.CheckLimits sees it.
func decode(b []byte, max int) (int, int, int, error) {
	img, err := Decode(b, max)
	if err != nil {
		return 0, 0, 0, err
	}
	return img.Width, img.Height, len(img.Pix), nil
}

func TestDecodeErrors(t *testing.T) {
	for name, s := range streams(t) {
		fixture.CheckLimits(t, name, s, decode)
		// A lossy frame header in place of SOF3 is refused as unsupported.
		lossy := bytes.Replace(s, []byte{0xFF, 0xC3}, []byte{0xFF, 0xC1}, 1)
		if _, err := Decode(lossy, 1<<20); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s as SOF1: %v, want ErrUnsupported", name, err)
		}
		break
	}
	if _, err := Decode([]byte("not a jpeg"), 100); err == nil {
		t.Error("not a JPEG: no error")
	}
}

// FuzzDecode: no input makes the decoder panic.
func FuzzDecode(f *testing.F) {
	n := 0
	for _, s := range streams(f) {
		f.Add(s)
		if n++; n == 6 {
			break
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(b, 1<<14)
		if err == nil && len(img.Pix) != img.Width*img.Height {
			t.Fatalf("%d samples for %d×%d", len(img.Pix), img.Width, img.Height)
		}
	})
}
