package ljpeg

import (
	"bytes"
	"errors"
	"strings"
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
	for _, s := range fixture.Streams(t, "..", "*-jpegll-*.dcm") {
		img, err := Decode(s.Data, 1<<20)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		low := 0
		if strings.Contains(s.Name, "-pt2") {
			low = 2 // made with point transform 2: the low two bits are gone
		}
		near := 0
		if _, after, ok := strings.Cut(s.Name, "-near"); ok {
			near = int(after[0] - '0') // made near-lossless: each sample within NEAR
		}
		fixture.CheckValues(t, s, img.Precision, low, near, img.Pix)
	}
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
