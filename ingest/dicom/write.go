package dicom

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

// ctImageStorage is the SOP class of CT images.
const ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// Encode writes s as a DICOM CT image file in transfer syntax ts (one of
// the four native syntaxes): the preamble, the meta group, the elements
// voxmine reads, a nested sequence of undefined length (as real files
// carry), and pixels, which hold Rows × Columns stored values (their low
// BitsStored bits are written; two's complement when PixelRepresentation
// is 1). The test fixtures and the golden files ITK reads are made with it.
func Encode(w io.Writer, s *Slice, ts string, pixels []int32) error {
	if len(pixels) != s.Rows*s.Columns {
		return fmt.Errorf("dicom: %d pixels for %d×%d", len(pixels), s.Columns, s.Rows)
	}
	var order binary.ByteOrder = binary.LittleEndian
	explicit := true
	switch ts {
	case implicitLE:
		explicit = false
	case explicitLE, deflatedLE:
	case explicitBE:
		order = binary.BigEndian
	default:
		return fmt.Errorf("dicom: cannot write transfer syntax %s", ts)
	}
	e := &encoder{order: order, explicit: explicit}
	ds := func(v ...float64) string {
		parts := make([]string, len(v))
		for i, f := range v {
			parts[i] = strconv.FormatFloat(f, 'g', 10, 64)
		}
		return strings.Join(parts, `\`)
	}
	us := func(v int) []byte { b := make([]byte, 2); order.PutUint16(b, uint16(v)); return b }
	elems := map[uint32]elem{
		tagImageType:       {"CS", []byte(strings.Join(s.ImageType, `\`))},
		0x00080016:         {"UI", []byte(ctImageStorage)},
		tagSOPInstanceUID:  {"UI", []byte(s.SOPUID)},
		tagModality:        {"CS", []byte(s.Modality)},
		tagStudyUID:        {"UI", []byte(s.StudyUID)},
		tagSeriesUID:       {"UI", []byte(s.SeriesUID)},
		tagSeriesNumber:    {"IS", []byte(s.SeriesNumber)},
		tagInstanceNumber:  {"IS", []byte(s.InstanceNumber)},
		tagPosition:        {"DS", []byte(ds(s.Position[:]...))},
		tagOrientation:     {"DS", []byte(ds(s.Orientation[:]...))},
		tagSamplesPerPixel: {"US", us(1)},
		0x00280004:         {"CS", []byte("MONOCHROME2")},
		tagRows:            {"US", us(s.Rows)},
		tagColumns:         {"US", us(s.Columns)},
		tagPixelSpacing:    {"DS", []byte(ds(s.PixelSpacing[:]...))},
		tagBitsAllocated:   {"US", us(s.BitsAllocated)},
		tagBitsStored:      {"US", us(s.BitsStored)},
		tagHighBit:         {"US", us(s.BitsStored - 1)},
		tagPixelRep:        {"US", us(s.PixelRepresentation)},
		tagIntercept:       {"DS", []byte(ds(s.Intercept))},
		tagSlope:           {"DS", []byte(ds(s.Slope))},
	}
	if s.GantryTilt != 0 {
		elems[tagGantryTilt] = elem{"DS", []byte(ds(s.GantryTilt))}
	}
	tags := make([]uint32, 0, len(elems))
	for t := range elems {
		tags = append(tags, t)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	var body bytes.Buffer
	for _, t := range tags {
		if t > 0x00081140 && !e.wroteSeq {
			e.sequence(&body) // (0008,1140) ReferencedImageSequence, undefined length
		}
		e.put(&body, t, elems[t])
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
	e.put(&body, tagPixelData, elem{"OW", raw})

	var meta bytes.Buffer
	me := &encoder{order: binary.LittleEndian, explicit: true}
	for _, m := range []struct {
		tag uint32
		e   elem
	}{
		{0x00020001, elem{"OB", []byte{0, 1}}},
		{0x00020002, elem{"UI", []byte(ctImageStorage)}},
		{0x00020003, elem{"UI", []byte(s.SOPUID)}},
		{tagTransferSyntax, elem{"UI", []byte(ts)}},
		{0x00020012, elem{"UI", []byte("1.2.826.0.1.3680043.10.1234.1")}},
	} {
		me.put(&meta, m.tag, m.e)
	}
	out := make([]byte, 128, 128+4+12+meta.Len())
	out = append(out, "DICM"...)
	var gl bytes.Buffer
	glv := make([]byte, 4)
	binary.LittleEndian.PutUint32(glv, uint32(meta.Len()))
	me.put(&gl, 0x00020000, elem{"UL", glv})
	out = append(append(out, gl.Bytes()...), meta.Bytes()...)
	if _, err := w.Write(out); err != nil {
		return err
	}
	if ts == deflatedLE {
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

type elem struct {
	vr    string
	value []byte
}

type encoder struct {
	order    binary.ByteOrder
	explicit bool
	wroteSeq bool
}

// put writes one element, padding its value to an even length.
func (e *encoder) put(w *bytes.Buffer, tag uint32, el elem) {
	v := el.value
	if len(v)%2 == 1 {
		pad := byte(' ')
		if el.vr == "UI" || el.vr == "OB" {
			pad = 0
		}
		v = append(append([]byte(nil), v...), pad)
	}
	b := make([]byte, 4)
	e.order.PutUint16(b, uint16(tag>>16))
	e.order.PutUint16(b[2:], uint16(tag))
	w.Write(b)
	e.header(w, el.vr, uint32(len(v)))
	w.Write(v)
}

func (e *encoder) header(w *bytes.Buffer, vr string, length uint32) {
	if !e.explicit {
		b := make([]byte, 4)
		e.order.PutUint32(b, length)
		w.Write(b)
		return
	}
	w.WriteString(vr)
	if vrLong[vr] {
		b := make([]byte, 6)
		e.order.PutUint32(b[2:], length)
		w.Write(b)
		return
	}
	b := make([]byte, 2)
	e.order.PutUint16(b, uint16(length))
	w.Write(b)
}

// sequence writes a ReferencedImageSequence of undefined length holding
// one item of undefined length, the layout that trips naive parsers.
func (e *encoder) sequence(w *bytes.Buffer) {
	e.wroteSeq = true
	tag := func(t uint32) {
		b := make([]byte, 4)
		e.order.PutUint16(b, uint16(t>>16))
		e.order.PutUint16(b[2:], uint16(t))
		w.Write(b)
	}
	u32 := func(v uint32) {
		b := make([]byte, 4)
		e.order.PutUint32(b, v)
		w.Write(b)
	}
	tag(0x00081140)
	e.header(w, "SQ", undefinedLength)
	tag(tagItem)
	u32(undefinedLength)
	e.put(w, 0x00081150, elem{"UI", []byte(ctImageStorage)})
	e.put(w, 0x00081155, elem{"UI", []byte("1.2.826.0.1.3680043.10.1234.99")})
	tag(tagItemDelim)
	u32(0)
	tag(tagSeqDelim)
	u32(0)
}
