package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"

	"voxmine/ingest/source"
)

// Multi-frame images: an Enhanced CT (or Legacy Converted Enhanced CT)
// file holds a whole series, one frame per slice. The geometry and the
// rescale that a single-frame file carries at the top level sit in
// functional groups instead (PS3.3 C.7.6.16): the shared group for what
// all frames have in common, one per-frame item for the rest. voxmine
// turns such a file into one Slice per frame, so that sorting, spacing
// checks and reading are the same as for a folder of single-frame files.

// Functional group sequences and the macros inside them that voxmine reads.
const (
	tagSharedGroups   = 0x52009229
	tagPerFrameGroups = 0x52009230
	tagPlanePosition  = 0x00209113
	tagPlaneOrient    = 0x00209116
	tagPixelMeasures  = 0x00289110
	tagValueTransform = 0x00289145
)

// groupMacros are the macros whose elements a frameGroup takes.
var groupMacros = map[uint32]bool{tagPlanePosition: true, tagPlaneOrient: true, tagPixelMeasures: true, tagValueTransform: true}

// maxFrames bounds the per-frame items read, so a damaged or crafted file
// cannot make the parser allocate without limit (a CT series has a few
// thousand slices at most).
const maxFrames = 100000

// frameGroup is what one functional group item says about a frame: only
// the values voxmine reads, so a file of thousands of frames costs little.
type frameGroup struct {
	position, orientation, spacing, slope, intercept bool // which of the values it gives
	pos                                              [3]float64
	orient                                           [6]float64
	pixelSpacing                                     [2]float64
	slopeV, interV                                   float64
}

// apply copies the values g gives onto s.
func (g *frameGroup) apply(s *Slice) {
	if g.position {
		s.Position, s.HasPosition = g.pos, true
	}
	if g.orientation {
		s.Orientation, s.HasOrientation = g.orient, true
	}
	if g.spacing {
		s.PixelSpacing = g.pixelSpacing
	}
	if g.slope {
		s.Slope = g.slopeV
	}
	if g.intercept {
		s.Intercept = g.interV
	}
}

// take reads one element of a macro item into g; the value has length n
// and begins at p.pos.
func (g *frameGroup) take(p *parser, tag uint32, vr string, n uint32) error {
	if n == undefinedLength {
		return p.skipSequence(!p.explicit || vr == "UN", 0)
	}
	v, err := p.value(n)
	if err != nil {
		return err
	}
	switch tag {
	case tagPosition, tagOrientation, tagPixelSpacing, tagSlope, tagIntercept:
	default:
		return nil
	}
	var s Slice // parsed as a top-level element would be
	if err := s.set(tag, v, p.order); err != nil {
		return fmt.Errorf("element (%04X,%04X) in a functional group: %w", tag>>16, tag&0xffff, err)
	}
	switch tag {
	case tagPosition:
		g.position, g.pos = true, s.Position
	case tagOrientation:
		g.orientation, g.orient = true, s.Orientation
	case tagPixelSpacing:
		g.spacing, g.pixelSpacing = true, s.PixelSpacing
	case tagSlope:
		g.slope, g.slopeV = true, s.Slope
	case tagIntercept:
		g.intercept, g.interV = true, s.Intercept
	}
	return nil
}

// end is where a value of length bytes that begins at p.pos ends, or −1
// when its length is undefined.
func (p *parser) end(length uint32) (int, error) {
	if length == undefinedLength {
		return -1, nil
	}
	if uint64(p.pos)+uint64(length) > uint64(len(p.b)) {
		return 0, errShort
	}
	return p.pos + int(length), nil
}

// eachItem calls item for every item of the sequence whose value begins
// at p.pos and is length bytes long (or undefined, up to its delimiter),
// with where the item ends (−1: at its delimiter).
func (p *parser) eachItem(length uint32, item func(end int) error) error {
	end, err := p.end(length)
	if err != nil {
		return err
	}
	for end < 0 || p.pos < end {
		tag, _, n, err := p.element()
		if err != nil {
			return err
		}
		switch tag {
		case tagSeqDelim:
			return nil
		case tagItem:
			iend, err := p.end(n)
			if err != nil {
				return err
			}
			if err := item(iend); err != nil {
				return err
			}
			if iend >= 0 && p.pos != iend {
				return fmt.Errorf("an item's elements run past its end at byte %d", iend)
			}
		default:
			return fmt.Errorf("element (%04X,%04X) inside a sequence where an item belongs", tag>>16, tag&0xffff)
		}
	}
	if p.pos != end {
		return fmt.Errorf("a sequence's items run past its end at byte %d", end)
	}
	return nil
}

// eachElement calls elem for every element of an item that ends at end
// (−1: at its delimiter); elem must read or skip the element's value.
func (p *parser) eachElement(end int, elem func(tag uint32, vr string, n uint32) error) error {
	for end < 0 || p.pos < end {
		tag, vr, n, err := p.element()
		if err != nil {
			return err
		}
		if tag == tagItemDelim {
			return nil
		}
		if err := elem(tag, vr, n); err != nil {
			return err
		}
	}
	return nil
}

// skip moves past an element's value of length n.
func (p *parser) skip(vr string, n uint32) error {
	if n == undefinedLength {
		return p.skipSequence(!p.explicit || vr == "UN", 0)
	}
	_, err := p.value(n)
	return err
}

// implicitIn runs read with p reading implicit VR when vr is UN: a
// sequence that an encoder did not know is written as UN, and its items
// are then implicit VR little endian (PS3.5 6.2.2), as GDCM writes the
// newer functional groups.
func (p *parser) implicitIn(vr string, read func() error) error {
	if vr != "UN" {
		return read()
	}
	saved := p.explicit
	p.explicit = false
	defer func() { p.explicit = saved }()
	return read()
}

// groups reads a functional groups sequence of VR vr, one frameGroup per
// item. Only the macros voxmine needs are read; the rest is skipped by
// length.
func (p *parser) groups(vr string, length uint32) (out []frameGroup, err error) {
	err = p.implicitIn(vr, func() error {
		return p.eachItem(length, func(end int) error {
			var g frameGroup
			err := p.eachElement(end, func(tag uint32, vr string, n uint32) error {
				if !groupMacros[tag] {
					return p.skip(vr, n)
				}
				return p.implicitIn(vr, func() error {
					return p.eachItem(n, func(end int) error {
						return p.eachElement(end, func(tag uint32, vr string, n uint32) error {
							return g.take(p, tag, vr, n)
						})
					})
				})
			})
			if len(out) == maxFrames {
				return fmt.Errorf("more than %d functional group items", maxFrames)
			}
			out = append(out, g)
			return err
		})
	})
	return out, err
}

// multiFrame reports whether s is a multi-frame image or carries
// functional groups (an enhanced image, even of one frame).
func (s *Slice) multiFrame() bool { return s.Frames > 1 || s.shared != nil || s.perFrame != nil }

// Name names the slice in messages: its file, and the frame in a
// multi-frame file.
func (s *Slice) Name() string {
	if s.Frames > 1 {
		return fmt.Sprintf("%s frame %d", s.Path, s.Frame+1)
	}
	return s.Path
}

// Split returns the slices a file holds: s itself for a single-frame
// image, one Slice per frame for a multi-frame one, each with its frame's
// position, orientation, pixel spacing and rescale from the shared and
// per-frame functional groups.
func (s *Slice) Split() ([]*Slice, error) {
	if !s.multiFrame() {
		return []*Slice{s}, nil
	}
	if s.Frames < 1 {
		return nil, source.Formatf(s.Path, "NumberOfFrames %d", s.Frames)
	}
	if s.shared == nil && s.perFrame == nil {
		return nil, &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("a multi-frame image (%d frames) without functional groups to place its frames", s.Frames),
			Hint: "a CT series needs a position per slice: export it as single-frame images or as Enhanced CT"}
	}
	if len(s.perFrame) != s.Frames {
		return nil, source.Formatf(s.Path, "%d per-frame functional group items for %d frames", len(s.perFrame), s.Frames)
	}
	out := make([]*Slice, s.Frames)
	for k := range out {
		f := *s
		f.Frame = k
		if s.shared != nil {
			s.shared.apply(&f)
		}
		s.perFrame[k].apply(&f)
		f.shared, f.perFrame = nil, nil
		out[k] = &f
	}
	return out, nil
}

// frameBytes returns the native pixel data of frame k: Rows × Columns
// samples of BitsAllocated bits.
func (s *Slice) frameBytes(k int) ([]byte, error) {
	size := s.Rows * s.Columns * s.BitsAllocated / 8
	if need := (k + 1) * size; len(s.pixels) < need {
		frames := ""
		if s.Frames > 1 {
			frames = fmt.Sprintf("frame %d of ", k+1)
		}
		return nil, source.Formatf(s.Path, "pixel data holds %d bytes, %s%d×%d×%d bits needs %d (truncated?)",
			len(s.pixels), frames, s.Columns, s.Rows, s.BitsAllocated, need)
	}
	return s.pixels[k*size : (k+1)*size], nil
}

// fragment is one item of encapsulated pixel data: its bytes and its
// offset from the first fragment's item tag, which the basic offset table
// counts from.
type fragment struct {
	data   []byte
	offset int
}

// fragments reads the items of an encapsulated pixel data element: the
// basic offset table (the first item) and the fragments after it, up to
// the sequence delimiter or the end of the file.
func fragments(b []byte) (table []byte, frags []fragment, err error) {
	first := true
	start := 0
	for pos := 0; ; {
		if pos+8 > len(b) {
			break // no delimiter: the file ends after the last item
		}
		group, elem := binary.LittleEndian.Uint16(b[pos:]), binary.LittleEndian.Uint16(b[pos+2:])
		n := int(binary.LittleEndian.Uint32(b[pos+4:]))
		at := pos
		pos += 8
		switch {
		case group == 0xFFFE && elem == 0xE0DD:
			pos = len(b)
			continue
		case group != 0xFFFE || elem != 0xE000:
			return nil, nil, fmt.Errorf("item tag (%04X,%04X) where a fragment should be", group, elem)
		case n < 0 || pos+n > len(b):
			return nil, nil, fmt.Errorf("a fragment of %d bytes runs past the file", n)
		}
		if first {
			table, start = b[pos:pos+n], pos+n
		} else {
			frags = append(frags, fragment{b[pos : pos+n], at - start})
		}
		first = false
		pos += n
	}
	if len(frags) == 0 {
		return nil, nil, errors.New("no fragments")
	}
	return table, frags, nil
}

// encapsulatedFrames splits encapsulated pixel data into its frames'
// codestreams: by the basic offset table when it has one entry per frame,
// else one fragment per frame when the counts match, else at the
// fragments that begin a codestream (a JPEG SOI or a JPEG 2000 SOC or JP2
// signature): encoders may split a frame over several fragments and leave
// the table empty. ts is the transfer syntax.
func encapsulatedFrames(b []byte, count int, ts string) ([][]byte, error) {
	table, frags, err := fragments(b)
	if err != nil {
		return nil, err
	}
	join := func(fs []fragment) []byte {
		if len(fs) == 1 {
			return fs[0].data
		}
		var out []byte
		for _, f := range fs {
			out = append(out, f.data...)
		}
		return out
	}
	if count == 1 {
		return [][]byte{join(frags)}, nil
	}
	out := make([][]byte, 0, count)
	switch {
	case len(table) == 4*count:
		// Frame k is the fragments from offset table[k] up to table[k+1].
		j := 0
		for k := range count {
			off := int(binary.LittleEndian.Uint32(table[4*k:]))
			if j >= len(frags) || frags[j].offset != off {
				return nil, fmt.Errorf("basic offset table: frame %d at byte %d, which does not begin a fragment", k+1, off)
			}
			next := len(frags)
			if k+1 < count {
				nextOff := int(binary.LittleEndian.Uint32(table[4*k+4:]))
				for next = j + 1; next < len(frags) && frags[next].offset < nextOff; next++ {
				}
			}
			out = append(out, join(frags[j:next]))
			j = next
		}
		return out, nil
	case len(table) != 0:
		return nil, fmt.Errorf("basic offset table of %d bytes for %d frames", len(table), count)
	case len(frags) == count:
		for _, f := range frags {
			out = append(out, f.data)
		}
		return out, nil
	}
	begins := func(d []byte) bool {
		switch ts {
		case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91":
			return len(d) >= 2 && d[0] == 0xFF && d[1] == 0x4F ||
				len(d) >= 8 && string(d[4:8]) == "jP  "
		case "1.2.840.10008.1.2.5":
			return false // an RLE header cannot be told from data
		}
		return len(d) >= 2 && d[0] == 0xFF && d[1] == 0xD8
	}
	start := -1
	for i, f := range frags {
		if begins(f.data) {
			if start >= 0 {
				out = append(out, join(frags[start:i]))
			}
			start = i
		} else if start < 0 {
			return nil, fmt.Errorf("%d fragments for %d frames, no offset table, and the first fragment does not begin a frame", len(frags), count)
		}
	}
	out = append(out, join(frags[start:]))
	if len(out) != count {
		return nil, fmt.Errorf("%d fragments hold %d frames (no offset table), want %d", len(frags), len(out), count)
	}
	return out, nil
}
