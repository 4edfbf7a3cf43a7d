package dicom

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Transfer syntax uids (PS3.5 §10, Annex A).
const (
	implicitLE = "1.2.840.10008.1.2"
	explicitLE = "1.2.840.10008.1.2.1"
	deflatedLE = "1.2.840.10008.1.2.1.99"
	explicitBE = "1.2.840.10008.1.2.2"
)

// compressedSyntaxes names the encapsulated transfer syntaxes for messages.
var compressedSyntaxes = map[string]string{
	"1.2.840.10008.1.2.4.50": "JPEG baseline", "1.2.840.10008.1.2.4.51": "JPEG extended",
	"1.2.840.10008.1.2.4.57": "JPEG lossless", "1.2.840.10008.1.2.4.70": "JPEG lossless SV1",
	"1.2.840.10008.1.2.4.80": "JPEG-LS lossless", "1.2.840.10008.1.2.4.81": "JPEG-LS near-lossless",
	"1.2.840.10008.1.2.4.90": "JPEG 2000 lossless", "1.2.840.10008.1.2.4.91": "JPEG 2000",
	"1.2.840.10008.1.2.5": "RLE lossless",
}

// maxInflated bounds a deflated dataset (a CT slice is about 0.5 MB), so a
// crafted file cannot make the reader allocate without limit; inflate
// bounds it further by the compressed size.
const maxInflated = 256 << 20

// inflate inflates a deflated dataset. Its size may be at most 16 MiB plus
// 64 times the compressed bytes (CT deflates 2–20×; a few KB that inflate
// to hundreds of MB are a crafted file) and maxInflated. It is counted
// first and allocated once at its size: growing a buffer by doubling
// peaked at twice the cap, for each slice parsed at once.
func inflate(z []byte) ([]byte, error) {
	limit := min(int64(maxInflated), 16<<20+64*int64(len(z)))
	n, err := io.Copy(io.Discard, io.LimitReader(flate.NewReader(bytes.NewReader(z)), limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("deflated dataset of %d bytes inflates past %d bytes: not a CT image", len(z), limit)
	}
	out := make([]byte, n)
	_, err = io.ReadFull(flate.NewReader(bytes.NewReader(z)), out)
	return out, err
}

// Tags voxmine reads, as group<<16 | element.
const (
	tagTransferSyntax  = 0x00020010
	tagImageType       = 0x00080008
	tagSOPInstanceUID  = 0x00080018
	tagStudyDate       = 0x00080020
	tagModality        = 0x00080060
	tagSeriesDescr     = 0x0008103E
	tagPatientID       = 0x00100020
	tagKernel          = 0x00181210
	tagSliceThickness  = 0x00180050
	tagGantryTilt      = 0x00181120
	tagStudyUID        = 0x0020000D
	tagSeriesUID       = 0x0020000E
	tagSeriesNumber    = 0x00200011
	tagInstanceNumber  = 0x00200013
	tagPosition        = 0x00200032
	tagOrientation     = 0x00200037
	tagSamplesPerPixel = 0x00280002
	tagNumberOfFrames  = 0x00280008
	tagRows            = 0x00280010
	tagColumns         = 0x00280011
	tagPixelSpacing    = 0x00280030
	tagBitsAllocated   = 0x00280100
	tagBitsStored      = 0x00280101
	tagHighBit         = 0x00280102
	tagPixelRep        = 0x00280103
	tagPaddingValue    = 0x00280120
	tagIntercept       = 0x00281052
	tagSlope           = 0x00281053
	tagPixelData       = 0x7FE00010
	tagItem            = 0xFFFEE000
	tagItemDelim       = 0xFFFEE00D
	tagSeqDelim        = 0xFFFEE0DD
	undefinedLength    = 0xFFFFFFFF
)

// Slice is one DICOM image file as far as voxmine needs it.
type Slice struct {
	Path                         string
	TransferSyntax               string
	SeriesUID, StudyUID, SOPUID  string
	SeriesNumber, InstanceNumber string
	Modality                     string
	PatientID, StudyDate         string
	Description, Kernel          string // SeriesDescription, ConvolutionKernel
	SliceThickness               string // as written (a decimal string)
	ImageType                    []string
	Rows, Columns                int
	PixelSpacing                 [2]float64 // between rows, between columns
	Position                     [3]float64
	Orientation                  [6]float64 // row direction, column direction
	HasPosition, HasOrientation  bool
	BitsAllocated, BitsStored    int
	HighBit, PixelRepresentation int
	SamplesPerPixel, Frames      int
	Slope, Intercept             float64
	GantryTilt                   float64
	// Padding is PixelPaddingValue, when given.
	Padding *int
	// Frame is which frame of a multi-frame file the slice is (from 0).
	Frame        int
	shared       *frameGroup  // the shared functional group, of an enhanced image
	perFrame     []frameGroup // the per-frame functional groups
	bigEndian    bool
	pixels       []byte // the native pixel data, when it was read
	pixelsAt     int    // offset of the pixel data in the file, −1 if none
	encapsulated bool
}

// errNotDICOM marks a file that is not DICOM at all (Find passes over it).
var errNotDICOM = errors.New("not a DICOM file")

// errShort means the bytes given end before the pixel data: read more.
var errShort = errors.New("header runs past the bytes read")

// vrLong are the explicit VRs with a 2-byte reserved field and a 4-byte length.
var vrLong = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

// isVR reports whether two bytes are an explicit VR's letters.
func isVR(b []byte) bool {
	return len(b) >= 2 && b[0] >= 'A' && b[0] <= 'Z' && b[1] >= 'A' && b[1] <= 'Z'
}

// parser walks the elements of a dataset.
type parser struct {
	b        []byte
	pos      int
	explicit bool
	order    binary.ByteOrder
}

// element reads the next element's tag, VR (empty for implicit VR and
// items) and value length, leaving pos at the value.
func (p *parser) element() (tag uint32, vr string, length uint32, err error) {
	if p.pos+8 > len(p.b) {
		return 0, "", 0, errShort
	}
	o := p.order
	tag = uint32(o.Uint16(p.b[p.pos:]))<<16 | uint32(o.Uint16(p.b[p.pos+2:]))
	if tag>>16 == 0xFFFE || !p.explicit { // items and their delimiters have no VR
		length = o.Uint32(p.b[p.pos+4:])
		p.pos += 8
		return tag, "", length, nil
	}
	vr = string(p.b[p.pos+4 : p.pos+6])
	if !isVR(p.b[p.pos+4:]) {
		return 0, "", 0, fmt.Errorf("element (%04X,%04X) at byte %d has no valid VR", tag>>16, tag&0xffff, p.pos)
	}
	if vrLong[vr] {
		if p.pos+12 > len(p.b) {
			return 0, "", 0, errShort
		}
		length = o.Uint32(p.b[p.pos+8:])
		p.pos += 12
		return tag, vr, length, nil
	}
	length = uint32(o.Uint16(p.b[p.pos+6:]))
	p.pos += 8
	return tag, vr, length, nil
}

// value returns the next length bytes and moves past them.
func (p *parser) value(length uint32) ([]byte, error) {
	if uint64(p.pos)+uint64(length) > uint64(len(p.b)) {
		return nil, errShort
	}
	v := p.b[p.pos : p.pos+int(length)]
	p.pos += int(length)
	return v, nil
}

// skipSequence skips the items of a sequence of undefined length, up to
// and past its delimiter. Items of undefined length are walked element by
// element (those of a known length are skipped whole); implicit says
// whether they are implicit VR (an undefined-length UN).
func (p *parser) skipSequence(implicit bool, depth int) error {
	if depth > 32 {
		return errors.New("sequences nested more than 32 deep")
	}
	saved := p.explicit
	if implicit {
		p.explicit = false
	}
	defer func() { p.explicit = saved }()
	return p.eachItem(undefinedLength, func(end int) error {
		if end >= 0 {
			p.pos = end
			return nil
		}
		return p.eachElement(end, func(tag uint32, vr string, n uint32) error {
			if n == undefinedLength {
				return p.skipSequence(implicit || vr == "UN", depth+1)
			}
			_, err := p.value(n)
			return err
		})
	})
}

// parse reads a DICOM file's elements from b (the whole file, or a prefix
// of it: errShort asks for more) up to the pixel data.
func parse(b []byte, path string) (*Slice, error) {
	s := &Slice{Path: path, pixelsAt: -1, Slope: 1, SamplesPerPixel: 1, Frames: 1}
	p := &parser{b: b, explicit: true, order: binary.LittleEndian}
	switch {
	case len(b) >= 132 && string(b[128:132]) == "DICM":
		p.pos = 132
	case len(b) >= 8 && binary.LittleEndian.Uint16(b) == 0x0002 && isVR(b[4:]):
		// a meta group without the preamble
	case len(b) >= 8 && binary.LittleEndian.Uint16(b) == 0x0008:
		// no meta group: a bare dataset (old ACR-NEMA style), implicit or explicit VR LE
		s.TransferSyntax = implicitLE
		if isVR(b[4:]) {
			s.TransferSyntax = explicitLE
		}
	default:
		return nil, errNotDICOM
	}
	// The meta group (0002,xxxx) is always explicit VR little endian.
	for s.TransferSyntax == "" || p.pos > 0 {
		if p.pos+8 > len(b) {
			return nil, errShort
		}
		if binary.LittleEndian.Uint16(b[p.pos:]) != 0x0002 {
			break
		}
		tag, _, length, err := p.element()
		if err != nil {
			return nil, err
		}
		v, err := p.value(length)
		if err != nil {
			return nil, err
		}
		if tag == tagTransferSyntax {
			s.TransferSyntax = str(v)
		}
	}
	if s.TransferSyntax == "" {
		s.TransferSyntax = implicitLE // the default when the meta group names none
	}
	switch ts := s.TransferSyntax; {
	case ts == implicitLE:
		p.explicit = false
	case ts == explicitLE:
	case ts == explicitBE:
		p.order, s.bigEndian = binary.BigEndian, true
	case ts == deflatedLE:
		inflated, err := inflate(b[p.pos:])
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, errShort
			}
			return nil, fmt.Errorf("deflated dataset: %w", err)
		}
		p = &parser{b: inflated, explicit: true, order: binary.LittleEndian}
	default:
		// Encapsulated pixel data: the header is still explicit VR LE.
		if _, ok := compressedSyntaxes[ts]; !ok && !strings.HasPrefix(ts, "1.2.840.10008.1.2.4.") {
			return nil, fmt.Errorf("transfer syntax %s is not a DICOM transfer syntax voxmine knows", ts)
		}
	}
	for {
		if p.pos == len(p.b) {
			return s, nil // no pixel data
		}
		tag, vr, length, err := p.element()
		if err != nil {
			return nil, err
		}
		if tag == tagPixelData {
			if length == undefinedLength {
				// Encapsulated: items of compressed fragments, to the end.
				s.encapsulated = true
				s.pixelsAt, s.pixels = p.pos, p.b[p.pos:]
				return s, nil
			}
			s.pixelsAt = p.pos
			if v, err := p.value(length); err == nil {
				s.pixels = v
			}
			return s, nil
		}
		if tag == tagSharedGroups || tag == tagPerFrameGroups {
			g, err := p.groups(vr, length)
			if err != nil {
				return nil, fmt.Errorf("functional groups (%04X,%04X): %w", tag>>16, tag&0xffff, err)
			}
			if tag == tagPerFrameGroups {
				s.perFrame = g
			} else if len(g) > 0 {
				s.shared = &g[0]
			}
			continue
		}
		if length == undefinedLength {
			if err := p.skipSequence(!p.explicit || vr == "UN", 0); err != nil {
				return nil, err
			}
			continue
		}
		v, err := p.value(length)
		if err != nil {
			return nil, err
		}
		if err := s.set(tag, v, p.order); err != nil {
			return nil, fmt.Errorf("element (%04X,%04X): %w", tag>>16, tag&0xffff, err)
		}
	}
}

// set stores the value of an element voxmine reads. An empty value (no
// bytes, or only padding) leaves the field as if the element were absent:
// DICOM allows empty type 2 and 3 elements (an empty PixelPaddingValue,
// GantryTilt, RescaleSlope in real archives), and a required element left
// empty is caught where its absence is.
func (s *Slice) set(tag uint32, v []byte, o binary.ByteOrder) error {
	if len(v) == 0 || (!isBinary(tag) && str(v) == "") {
		return nil
	}
	us := func() (int, error) {
		if len(v) < 2 {
			return 0, fmt.Errorf("%d bytes for a US value", len(v))
		}
		return int(o.Uint16(v)), nil
	}
	if p := s.text(tag); p != nil {
		*p = str(v)
		return nil
	}
	var err error
	switch tag {
	case tagImageType:
		s.ImageType = strings.Split(str(v), `\`)
	case tagGantryTilt:
		var f []float64
		if f, err = decimals(v, 1); err == nil {
			s.GantryTilt = f[0]
		}
	case tagPosition:
		var f []float64
		if f, err = decimals(v, 3); err == nil {
			copy(s.Position[:], f)
			s.HasPosition = true
		}
	case tagOrientation:
		var f []float64
		if f, err = decimals(v, 6); err == nil {
			copy(s.Orientation[:], f)
			s.HasOrientation = true
		}
	case tagPixelSpacing:
		var f []float64
		if f, err = decimals(v, 2); err == nil {
			copy(s.PixelSpacing[:], f)
		}
	case tagSamplesPerPixel:
		s.SamplesPerPixel, err = us()
	case tagNumberOfFrames:
		if t := str(v); t != "" {
			s.Frames, err = strconv.Atoi(t)
		}
	case tagRows:
		s.Rows, err = us()
	case tagColumns:
		s.Columns, err = us()
	case tagBitsAllocated:
		s.BitsAllocated, err = us()
	case tagBitsStored:
		s.BitsStored, err = us()
	case tagHighBit:
		s.HighBit, err = us()
	case tagPixelRep:
		s.PixelRepresentation, err = us()
	case tagPaddingValue:
		var n int
		if n, err = us(); err == nil {
			if s.PixelRepresentation == 1 { // (0028,0103) comes first in tag order
				n = int(int16(n))
			}
			s.Padding = &n
		}
	case tagIntercept:
		var f []float64
		if f, err = decimals(v, 1); err == nil {
			s.Intercept = f[0]
		}
	case tagSlope:
		var f []float64
		if f, err = decimals(v, 1); err == nil {
			s.Slope = f[0]
		}
	}
	return err
}

// isBinary reports whether element tag holds a binary (US) value, whose
// bytes may look like padding.
func isBinary(tag uint32) bool {
	switch tag {
	case tagSamplesPerPixel, tagRows, tagColumns, tagBitsAllocated, tagBitsStored, tagHighBit, tagPixelRep, tagPaddingValue:
		return true
	}
	return false
}

// text returns the string field that element tag fills, or nil.
func (s *Slice) text(tag uint32) *string {
	switch tag {
	case tagSOPInstanceUID:
		return &s.SOPUID
	case tagModality:
		return &s.Modality
	case tagStudyDate:
		return &s.StudyDate
	case tagSeriesDescr:
		return &s.Description
	case tagPatientID:
		return &s.PatientID
	case tagKernel:
		return &s.Kernel
	case tagSliceThickness:
		return &s.SliceThickness
	case tagStudyUID:
		return &s.StudyUID
	case tagSeriesUID:
		return &s.SeriesUID
	case tagSeriesNumber:
		return &s.SeriesNumber
	case tagInstanceNumber:
		return &s.InstanceNumber
	}
	return nil
}

// str is a string value without its padding (trailing spaces or NUL).
func str(v []byte) string { return strings.TrimRight(strings.TrimSpace(string(v)), "\x00 ") }

// decimals parses a DS value of at least n backslash-separated numbers.
func decimals(v []byte, n int) ([]float64, error) {
	parts := strings.Split(str(v), `\`)
	if len(parts) < n {
		return nil, fmt.Errorf("%q: %d numbers, want %d", str(v), len(parts), n)
	}
	out := make([]float64, len(parts))
	for i, t := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%q is not a decimal number", t)
		}
		out[i] = f
	}
	return out, nil
}
