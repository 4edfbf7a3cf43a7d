package ljpeg

import (
	"bytes"
	"errors"
	"testing"

	"voxmine/ingest/dicom/internal/fixture"
)

// decode is Decode as fixture.CheckLimits sees it.
func decode(b []byte, max int) (int, int, int, error) {
	img, err := Decode(b, max)
	if err != nil {
		return 0, 0, 0, err
	}
	return img.Width, img.Height, len(img.Pix), nil
}

// TestDecodeFixtures decodes every fixture, in name order, to the stored
// values of the slice it was made from.
func TestDecodeFixtures(t *testing.T) {
	fixture.CheckDecodes(t, "..", "*-jpegll-*.dcm", func(b []byte) (fixture.Image, error) {
		img, err := Decode(b, 1<<20)
		if err != nil {
			return fixture.Image{}, err
		}
		return fixture.Image{Precision: img.Precision, Pix: img.Pix}, nil
	})
}

func TestDecodeErrors(t *testing.T) {
	for _, f := range fixture.Streams(t, "..", "*-jpegll-*.dcm") {
		name, s := f.Name, f.Data
		fixture.CheckLimits(t, name, s, decode)
		// A lossy frame header in place of SOF3 is refused as unsupported.
		lossy := bytes.Replace(s, []byte{0xFF, 0xC3}, []byte{0xFF, 0xC1}, 1)
		if _, err := Decode(lossy, 1<<20); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s as SOF1: %v, want ErrUnsupported", name, err)
		}
	}
	if _, err := Decode([]byte("not a jpeg"), 100); err == nil {
		t.Error("not a JPEG: no error")
	}
}

// FuzzDecode: no input makes the decoder panic.
func FuzzDecode(f *testing.F) {
	n := 0
	for _, s := range fixture.Streams(f, "..", "*-jpegll-*.dcm") {
		f.Add(s.Data)
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
