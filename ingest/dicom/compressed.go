package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"

	"voxmine/ingest/dicom/j2k"
	"voxmine/ingest/dicom/jpegls"
	"voxmine/ingest/dicom/ljpeg"
	"voxmine/ingest/source"
)

// Encapsulated (compressed) pixel data voxmine decodes: JPEG 2000
// (1.2.840.10008.1.2.4.90, lossless only, and .91; package j2k), lossless
// JPEG (.57 and .70; package ljpeg), JPEG-LS (.80 and .81; package jpegls)
// and RLE (1.2.840.10008.1.2.5).

// decodable reports whether voxmine decodes transfer syntax ts.
func decodable(ts string) bool {
	switch ts {
	case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
		"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.5":
		return true
	}
	return false
}

// compressedHU decodes the slice's one frame into dst as HU.
func (s *Slice) compressedHU(dst []int16) error {
	switch {
	case s.pixelsAt < 0 || s.pixels == nil:
		return source.Formatf(s.Path, "no pixel data")
	case s.SamplesPerPixel != 1:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("%d samples per pixel (colour)", s.SamplesPerPixel)}
	case len(dst) != s.Rows*s.Columns:
		return fmt.Errorf("%s: %d values for %d×%d", s.Path, len(dst), s.Columns, s.Rows)
	case s.BitsAllocated != 8 && s.BitsAllocated != 16:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("compressed BitsAllocated %d", s.BitsAllocated)}
	}
	name := compressedSyntaxes[s.TransferSyntax]
	frames, err := encapsulatedFrames(s.pixels, max(s.Frames, 1), s.TransferSyntax)
	if err != nil {
		return source.Formatf(s.Path, "%s pixel data: %v", name, err)
	}
	if s.Frame >= len(frames) {
		return source.Formatf(s.Path, "%s pixel data: no frame %d", name, s.Frame+1)
	}
	frame := frames[s.Frame]
	stored := s.BitsStored
	if stored <= 0 || stored > s.BitsAllocated {
		stored = s.BitsAllocated
	}
	rescale := s.rescaler()
	// pattern turns the low stored bits of a sample into its value, two's
	// complement when PixelRepresentation is 1, as for native data.
	pattern := func(u uint64) int64 {
		u &= 1<<stored - 1
		if s.PixelRepresentation == 1 && u&(1<<(stored-1)) != 0 {
			return int64(u) - 1<<stored
		}
		return int64(u)
	}
	n := s.Rows * s.Columns
	var value func(i int) int64
	switch s.TransferSyntax {
	case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91":
		img, err := j2k.DecodeLimited(frame, n)
		if err != nil {
			return s.decodeError(name, err, j2k.ErrUnsupported)
		}
		if err := s.sameSize(name, img.Width, img.Height); err != nil {
			return err
		}
		// The codestream's signedness decides (PS3.5 8.2.4); an unsigned
		// codestream in a slice that says signed holds BitsStored-bit two's
		// complement, as some encoders write it.
		value = func(i int) int64 {
			if img.Signed {
				return int64(img.Pix[i])
			}
			return pattern(uint64(img.Pix[i]))
		}
	case "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70":
		img, err := ljpeg.Decode(frame, n)
		if err != nil {
			return s.decodeError(name, err, ljpeg.ErrUnsupported)
		}
		if err := s.sameSize(name, img.Width, img.Height); err != nil {
			return err
		}
		value = func(i int) int64 { return pattern(uint64(img.Pix[i])) }
	case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81":
		img, err := jpegls.Decode(frame, n)
		if err != nil {
			return s.decodeError(name, err, jpegls.ErrUnsupported)
		}
		if err := s.sameSize(name, img.Width, img.Height); err != nil {
			return err
		}
		value = func(i int) int64 { return pattern(uint64(img.Pix[i])) }
	default: // RLE
		planes, err := rle(frame, n, s.BitsAllocated/8)
		if err != nil {
			return source.Formatf(s.Path, "%s pixel data: %v", name, err)
		}
		value = func(i int) int64 {
			u := uint64(0)
			for _, p := range planes { // most significant byte first
				u = u<<8 | uint64(p[i])
			}
			return pattern(u)
		}
	}
	for i := range n {
		hu, err := rescale(i, value(i))
		if err != nil {
			return err
		}
		dst[i] = hu
	}
	return nil
}

// decodeError wraps a decoder's error: what it does not decode (an error
// wrapping unsupported) is an UnsupportedError with the way out.
func (s *Slice) decodeError(name string, err, unsupported error) error {
	if errors.Is(err, unsupported) {
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("%s with %v", name, err),
			Hint: "convert the series to uncompressed DICOM first, e.g. gdcmconv --raw IN OUT"}
	}
	return source.Formatf(s.Path, "%s pixel data: %v", name, err)
}

// sameSize checks that a decoded image has the slice's size.
func (s *Slice) sameSize(name string, w, h int) error {
	if w != s.Columns || h != s.Rows {
		return source.Formatf(s.Path, "%s image of %d×%d in a slice of %d×%d", name, w, h, s.Columns, s.Rows)
	}
	return nil
}

// rle decodes DICOM RLE (PS3.5 Annex G): a header of segment offsets,
// then one PackBits segment per byte plane of the samples, the most
// significant first. It returns the planes, n bytes each.
func rle(b []byte, n, planes int) ([][]byte, error) {
	if len(b) < 64 {
		return nil, errors.New("RLE header: truncated")
	}
	segs := int(binary.LittleEndian.Uint32(b))
	if segs != planes {
		return nil, fmt.Errorf("RLE: %d segments for %d bytes per sample", segs, planes)
	}
	out := make([][]byte, planes)
	for k := range planes {
		start := int(binary.LittleEndian.Uint32(b[4+4*k:]))
		end := len(b)
		if k+1 < planes {
			end = int(binary.LittleEndian.Uint32(b[8+4*k:]))
		}
		if start < 64 || start > end || end > len(b) {
			return nil, fmt.Errorf("RLE segment %d at %d…%d of %d bytes", k+1, start, end, len(b))
		}
		p, err := packBits(b[start:end], n)
		if err != nil {
			return nil, fmt.Errorf("RLE segment %d: %w", k+1, err)
		}
		out[k] = p
	}
	return out, nil
}

// packBits expands a PackBits run: a header byte h then h+1 literal bytes
// (h ≥ 0), or one byte repeated 1−h times (h < 0; −128 is a no-op).
func packBits(src []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for i := 0; i < len(src) && len(out) < n; {
		h := int(int8(src[i]))
		i++
		switch {
		case h >= 0:
			if i+h+1 > len(src) {
				return nil, errors.New("a literal run past the segment's end")
			}
			out = append(out, src[i:i+h+1]...)
			i += h + 1
		case h != -128:
			if i >= len(src) {
				return nil, errors.New("a repeat run past the segment's end")
			}
			for range 1 - h {
				out = append(out, src[i])
			}
			i++
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("%d bytes decoded, %d needed", len(out), n)
	}
	return out[:n], nil
}
