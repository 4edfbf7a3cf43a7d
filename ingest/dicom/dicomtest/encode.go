package dicomtest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Transfer syntaxes Encode writes.
const (
	ImplicitLE = "1.2.840.10008.1.2"
	ExplicitLE = "1.2.840.10008.1.2.1"
	DeflatedLE = "1.2.840.10008.1.2.1.99"
	ExplicitBE = "1.2.840.10008.1.2.2"
)

// Tags (group<<16 | element) of the elements Encode writes, and of
// sequences' items and delimiters.
const (
	TagTransferSyntax  = 0x00020010
	TagImageType       = 0x00080008
	TagSOPClass        = 0x00080016
	TagSOPInstanceUID  = 0x00080018
	TagModality        = 0x00080060
	TagGantryTilt      = 0x00181120
	TagStudyUID        = 0x0020000D
	TagSeriesUID       = 0x0020000E
	TagSeriesNumber    = 0x00200011
	TagInstanceNumber  = 0x00200013
	TagPosition        = 0x00200032
	TagOrientation     = 0x00200037
	TagSamplesPerPixel = 0x00280002
	TagPhotometric     = 0x00280004
	TagNumberOfFrames  = 0x00280008
	TagRows            = 0x00280010
	TagColumns         = 0x00280011
	TagPixelSpacing    = 0x00280030
	TagBitsAllocated   = 0x00280100
	TagBitsStored      = 0x00280101
	TagHighBit         = 0x00280102
	TagPixelRep        = 0x00280103
	TagIntercept       = 0x00281052
	TagSlope           = 0x00281053
	TagPixelData       = 0x7FE00010
	TagItem            = 0xFFFEE000
	TagItemDelim       = 0xFFFEE00D
	TagSeqDelim        = 0xFFFEE0DD
	UndefinedLength    = 0xFFFFFFFF
)

// ctImageStorage is the SOP class of CT images.
const ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// Slice is what Encode writes of one CT image.
type Slice struct {
	SeriesUID, StudyUID, SOPUID  string
	SeriesNumber, InstanceNumber string
	Modality                     string
	ImageType                    []string
	Rows, Columns                int
	PixelSpacing                 [2]float64 // between rows, between columns
	Position                     [3]float64
	Orientation                  [6]float64 // row direction, column direction
	BitsAllocated, BitsStored    int
	PixelRepresentation          int
	Slope, Intercept             float64
	GantryTilt                   float64
}

// Encode writes s as a DICOM CT image file in transfer syntax ts (one of
// the four native syntaxes): the preamble, the meta group, the elements
// voxmine reads, a nested sequence of undefined length (as real files
// carry), and pixels, which hold Rows × Columns stored values (their low
// BitsStored bits are written; two's complement when PixelRepresentation
// is 1).
func Encode(w io.Writer, s *Slice, ts string, pixels []int32) error {
	if len(pixels) != s.Rows*s.Columns {
		return fmt.Errorf("dicomtest: %d pixels for %d×%d", len(pixels), s.Columns, s.Rows)
	}
	var order ByteOrder = binary.LittleEndian
	explicit := true
	switch ts {
	case ImplicitLE:
		explicit = false
	case ExplicitLE, DeflatedLE:
	case ExplicitBE:
		order = binary.BigEndian
	default:
		return fmt.Errorf("dicomtest: cannot write transfer syntax %s", ts)
	}
	e := &Encoder{Order: order, Explicit: explicit}
	us := func(v int) []byte { return order.AppendUint16(nil, uint16(v)) }
	type elem struct {
		vr    string
		value []byte
	}
	elems := map[uint32]elem{
		TagImageType:       {"CS", []byte(strings.Join(s.ImageType, `\`))},
		TagSOPClass:        {"UI", []byte(ctImageStorage)},
		TagSOPInstanceUID:  {"UI", []byte(s.SOPUID)},
		TagModality:        {"CS", []byte(s.Modality)},
		TagStudyUID:        {"UI", []byte(s.StudyUID)},
		TagSeriesUID:       {"UI", []byte(s.SeriesUID)},
		TagSeriesNumber:    {"IS", []byte(s.SeriesNumber)},
		TagInstanceNumber:  {"IS", []byte(s.InstanceNumber)},
		TagPosition:        {"DS", []byte(DS(s.Position[:]...))},
		TagOrientation:     {"DS", []byte(DS(s.Orientation[:]...))},
		TagSamplesPerPixel: {"US", us(1)},
		TagPhotometric:     {"CS", []byte("MONOCHROME2")},
		TagRows:            {"US", us(s.Rows)},
		TagColumns:         {"US", us(s.Columns)},
		TagPixelSpacing:    {"DS", []byte(DS(s.PixelSpacing[:]...))},
		TagBitsAllocated:   {"US", us(s.BitsAllocated)},
		TagBitsStored:      {"US", us(s.BitsStored)},
		TagHighBit:         {"US", us(s.BitsStored - 1)},
		TagPixelRep:        {"US", us(s.PixelRepresentation)},
		TagIntercept:       {"DS", []byte(DS(s.Intercept))},
		TagSlope:           {"DS", []byte(DS(s.Slope))},
	}
	if s.GantryTilt != 0 {
		elems[TagGantryTilt] = elem{"DS", []byte(DS(s.GantryTilt))}
	}
	tags := make([]uint32, 0, len(elems))
	for t := range elems {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	var body bytes.Buffer
	wroteSeq := false
	for _, t := range tags {
		if t > 0x00081140 && !wroteSeq {
			e.referencedImages(&body) // (0008,1140) ReferencedImageSequence, undefined length
			wroteSeq = true
		}
		e.Put(&body, t, elems[t].vr, elems[t].value)
	}
	// Pixel data: OW, the low BitsStored bits of each value.
	size := s.BitsAllocated / 8
	raw := make([]byte, len(pixels)*size)
	mask := uint32(1)<<s.BitsStored - 1
	for i, v := range pixels {
		u := uint32(v) & mask
		switch size {
		case 1:
			raw[i] = byte(u)
		case 2:
			order.PutUint16(raw[2*i:], uint16(u))
		default:
			order.PutUint32(raw[4*i:], u)
		}
	}
	e.Put(&body, TagPixelData, "OW", raw)

	var meta bytes.Buffer
	me := &Encoder{Order: binary.LittleEndian, Explicit: true}
	me.Put(&meta, 0x00020001, "OB", []byte{0, 1})
	me.Put(&meta, 0x00020002, "UI", []byte(ctImageStorage))
	me.Put(&meta, 0x00020003, "UI", []byte(s.SOPUID))
	me.Put(&meta, TagTransferSyntax, "UI", []byte(ts))
	me.Put(&meta, 0x00020012, "UI", []byte("1.2.826.0.1.3680043.10.1234.1"))
	out := make([]byte, 128, 128+4+12+meta.Len())
	out = append(out, "DICM"...)
	var gl bytes.Buffer
	me.Put(&gl, 0x00020000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(meta.Len())))
	out = append(append(out, gl.Bytes()...), meta.Bytes()...)
	if _, err := w.Write(out); err != nil {
		return err
	}
	if ts == DeflatedLE {
		zw, err := flate.NewWriter(w, flate.DefaultCompression)
		if err != nil {
			return err
		}
		if _, err := zw.Write(body.Bytes()); err != nil {
			return err
		}
		return zw.Close()
	}
	_, err := w.Write(body.Bytes())
	return err
}

// DS formats decimal strings as a DS value, backslash-separated.
func DS(v ...float64) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = strconv.FormatFloat(f, 'g', 10, 64)
	}
	return strings.Join(parts, `\`)
}

// ByteOrder is binary.LittleEndian or binary.BigEndian.
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// An Encoder writes data elements in one byte order, with explicit VRs
// or implicit ones.
type Encoder struct {
	Order    ByteOrder
	Explicit bool
}

// vrLong are the VRs whose explicit length takes 4 bytes after 2 reserved.
var vrLong = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

// Tag writes a tag alone (an item or a delimiter's).
func (e *Encoder) Tag(w *bytes.Buffer, tag uint32) {
	w.Write(e.Order.AppendUint16(e.Order.AppendUint16(nil, uint16(tag>>16)), uint16(tag)))
}

// Put writes one element, padding its value to an even length.
func (e *Encoder) Put(w *bytes.Buffer, tag uint32, vr string, value []byte) {
	if len(value)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" || vr == "OB" {
			pad = 0
		}
		value = append(append([]byte(nil), value...), pad)
	}
	e.Tag(w, tag)
	e.Header(w, vr, uint32(len(value)))
	w.Write(value)
}

// Header writes an element's VR (when explicit) and length.
func (e *Encoder) Header(w *bytes.Buffer, vr string, length uint32) {
	if !e.Explicit {
		w.Write(e.Order.AppendUint32(nil, length))
		return
	}
	w.WriteString(vr)
	if vrLong[vr] {
		w.Write(e.Order.AppendUint32([]byte{0, 0}, length))
		return
	}
	w.Write(e.Order.AppendUint16(nil, uint16(length)))
}

// referencedImages writes a ReferencedImageSequence of undefined length
// holding one item of undefined length, the layout that trips naive
// parsers.
func (e *Encoder) referencedImages(w *bytes.Buffer) {
	e.Tag(w, 0x00081140)
	e.Header(w, "SQ", UndefinedLength)
	e.Tag(w, TagItem)
	w.Write(e.Order.AppendUint32(nil, UndefinedLength))
	e.Put(w, 0x00081150, "UI", []byte(ctImageStorage))
	e.Put(w, 0x00081155, "UI", []byte("1.2.826.0.1.3680043.10.1234.99"))
	e.Tag(w, TagItemDelim)
	w.Write(make([]byte, 4))
	e.Tag(w, TagSeqDelim)
	w.Write(make([]byte, 4))
}
