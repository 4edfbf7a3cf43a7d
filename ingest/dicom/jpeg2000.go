package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"

	"voxmine/ingest/dicom/j2k"
	"voxmine/ingest/source"
)

// JPEG 2000 pixel data (transfer syntaxes 1.2.840.10008.1.2.4.90, lossless
// only, and .91, which may be lossy), decoded by package j2k.

func isJPEG2000(ts string) bool {
	return ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91"
}

// jpeg2000HU decodes the slice's one frame into dst as HU.
func (s *Slice) jpeg2000HU(dst []int16) error {
	switch {
	case s.pixelsAt < 0 || s.pixels == nil:
		return source.Formatf(s.Path, "no pixel data")
	case s.SamplesPerPixel != 1:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("%d samples per pixel (colour)", s.SamplesPerPixel)}
	case s.Frames > 1:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("a multi-frame image (%d frames)", s.Frames), Hint: "split it into one file per slice"}
	case len(dst) != s.Rows*s.Columns:
		return fmt.Errorf("%s: %d values for %d×%d", s.Path, len(dst), s.Columns, s.Rows)
	}
	cs, err := frameData(s.pixels)
	if err != nil {
		return source.Formatf(s.Path, "JPEG 2000 pixel data: %v", err)
	}
	img, err := j2k.DecodeLimited(cs, s.Rows*s.Columns)
	if errors.Is(err, j2k.ErrUnsupported) {
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("JPEG 2000 with %v", err),
			Hint: "convert the series to uncompressed DICOM first, e.g. gdcmconv --raw IN OUT"}
	}
	if err != nil {
		return source.Formatf(s.Path, "JPEG 2000 pixel data: %v", err)
	}
	if img.Width != s.Columns || img.Height != s.Rows {
		return source.Formatf(s.Path, "JPEG 2000 image of %d×%d in a slice of %d×%d", img.Width, img.Height, s.Columns, s.Rows)
	}
	// The codestream's signedness decides (PS3.5 8.2.4); an unsigned
	// codestream in a slice that says signed holds BitsStored-bit two's
	// complement, as some encoders write it.
	stored := s.BitsStored
	if stored <= 0 || stored > img.Precision {
		stored = img.Precision
	}
	reinterpret := !img.Signed && s.PixelRepresentation == 1
	rescale := s.rescaler()
	for i, v := range img.Pix {
		x := int64(v)
		if reinterpret && x&(1<<(stored-1)) != 0 {
			x -= 1 << stored
		}
		hu, err := rescale(i, x)
		if err != nil {
			return err
		}
		dst[i] = hu
	}
	return nil
}

// frameData joins the fragments of an encapsulated pixel data element's
// single frame: items (FFFE,E000) after the basic offset table, up to the
// sequence delimiter (FFFE,E0DD).
func frameData(b []byte) ([]byte, error) {
	var out []byte
	first := true
	for pos := 0; ; {
		if pos+8 > len(b) {
			if out != nil {
				return out, nil // no delimiter: the file ends after the last item
			}
			return nil, errors.New("no fragments")
		}
		group, elem := binary.LittleEndian.Uint16(b[pos:]), binary.LittleEndian.Uint16(b[pos+2:])
		n := int(binary.LittleEndian.Uint32(b[pos+4:]))
		pos += 8
		switch {
		case group == 0xFFFE && elem == 0xE0DD:
			if out == nil {
				return nil, errors.New("no fragments")
			}
			return out, nil
		case group != 0xFFFE || elem != 0xE000:
			return nil, fmt.Errorf("item tag (%04X,%04X) where a fragment should be", group, elem)
		case n < 0 || pos+n > len(b):
			return nil, fmt.Errorf("a fragment of %d bytes runs past the file", n)
		}
		if !first { // the first item is the basic offset table
			out = append(out, b[pos:pos+n]...)
		}
		first = false
		pos += n
	}
}
