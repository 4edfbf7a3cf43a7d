package jpegls

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
	fixture.CheckDecodes(t, "..", "*-jpegls-*.dcm", func(b []byte) (fixture.Image, error) {
		img, err := Decode(b, 1<<20)
		if err != nil {
			return fixture.Image{}, err
		}
		return fixture.Image{Precision: img.Precision, Pix: img.Pix}, nil
	})
}

func TestDecodeErrors(t *testing.T) {
	for _, f := range fixture.Streams(t, "..", "*-jpegls-*.dcm") {
		name, s := f.Name, f.Data
		fixture.CheckLimits(t, name, s, decode)
		// A JPEG frame header in place of SOF55 is refused as unsupported.
		jpeg := bytes.Replace(s, []byte{0xFF, 0xF7}, []byte{0xFF, 0xC3}, 1)
		if _, err := Decode(jpeg, 1<<20); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s as SOF3: %v, want ErrUnsupported", name, err)
		}
		// Data cut inside the scan is an error, not a short image.
		if _, err := Decode(s[:len(s)*3/4], 1<<20); err == nil {
			t.Errorf("%s cut in its scan: no error", name)
		}
	}
	if _, err := Decode([]byte("not a jpeg"), 100); err == nil {
		t.Error("not a JPEG: no error")
	}
}

// FuzzDecode: no input makes the decoder panic.
func FuzzDecode(f *testing.F) {
	n := 0
	for _, s := range fixture.Streams(f, "..", "*-jpegls-*.dcm") {
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

// TestOverrun: the bit reader buffers up to 8 bytes ahead; only bits
// read beyond the data count as an overrun (buffered ones did not, which
// failed 14 of 133 real slices that end exactly at their last byte).
func TestOverrun(t *testing.T) {
	r := &bitReader{b: []byte{0xA5, 0xFF, 0x7F, 0x3C}} // 0xFF: the next byte holds 7 bits
	got := r.bits(8)<<23 | r.bits(8)<<15 | r.bits(7)<<8 | r.bits(8)
	if want := 0xA5<<23 | 0xFF<<15 | 0x7F<<8 | 0x3C; got != want {
		t.Errorf("bits %x, want %x", got, want)
	}
	if o := r.overrun(); o != 0 {
		t.Errorf("overrun %d after reading exactly the data (%d bits buffered past it)", o, r.past)
	}
	r.bits(5)
	if o := r.overrun(); o != 5 {
		t.Errorf("overrun %d after 5 bits past the data", o)
	}
}
