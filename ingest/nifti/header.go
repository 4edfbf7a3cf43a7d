package nifti

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	gzip "github.com/klauspost/pgzip"

	"voxmine/ingest/source"
	"voxmine/store/grid"
)

// Header sizes and magic strings of the two versions (nifti1.h, nifti2.h).
const (
	sizeofHeader1 = 348
	sizeofHeader2 = 540
)

// Datatype codes (nifti1.h, NIFTI_TYPE_*), with their size in bytes.
var datatypes = map[int16]struct {
	name string
	size int
}{
	2: {"uint8", 1}, 4: {"int16", 2}, 8: {"int32", 4}, 16: {"float32", 4}, 64: {"float64", 8},
	256: {"int8", 1}, 512: {"uint16", 2}, 768: {"uint32", 4}, 1024: {"int64", 8}, 1280: {"uint64", 8},
}

// Header is what voxmine reads of a NIfTI header, in the file's terms.
type Header struct {
	Path      string
	Version   int // 1 or 2
	Dim       [3]int
	Datatype  int16
	Pixdim    [4]float64 // qfac, then the voxel sizes
	VoxOffset int64
	Slope     float64 // scl_slope; 0 means no scaling
	Inter     float64 // scl_inter
	QformCode int
	SformCode int
	Quatern   [3]float64 // b, c, d
	Qoffset   [3]float64
	Srow      [3][4]float64
	order     binary.ByteOrder
}

// ElementType returns the datatype's name ("int16", …).
func (h *Header) ElementType() string { return datatypes[h.Datatype].name }

// Voxels returns the number of voxels.
func (h *Header) Voxels() int { return h.Dim[0] * h.Dim[1] * h.Dim[2] }

// open returns a reader of path's bytes and their size.
func open(path string) (io.Reader, int64, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, st.Size(), f.Close, nil
}

// skipToData moves r, positioned after the header, to VoxOffset.
func (h *Header) skipToData(r io.Reader) error {
	skip := h.VoxOffset - int64(sizeofHeader1)
	if h.Version == 2 {
		skip = h.VoxOffset - int64(sizeofHeader2)
	}
	if _, err := io.CopyN(io.Discard, r, max(skip, 0)); err != nil {
		return source.Formatf(h.Path, "vox_offset %d lies past the end of the file", h.VoxOffset)
	}
	return nil
}

// maxDeflateRatio is the most that deflate can expand its input (a 258-byte
// match in about two bits): a gzip file of n bytes holds at most this many
// times n bytes of data.
const maxDeflateRatio = 1032

// inflate looks through gzip when r starts with its magic. It returns the
// reader of the uncompressed bytes and a bound on their number: exact for
// a plain file, the deflate limit for a gzipped one (−1 when the size is
// unknown).
func inflate(r io.Reader, size int64, name string) (io.Reader, int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReaderN(br, 256<<10, 8)
		if err != nil {
			return nil, 0, source.Formatf(name, "gzip: %w", err)
		}
		if size < 0 {
			return zr, -1, nil
		}
		return zr, size * maxDeflateRatio, nil
	}
	return br, size, nil
}

// ReadHeader reads the header of a .nii or .nii.gz file.
func ReadHeader(path string) (*Header, error) {
	f, size, closeFn, err := open(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	r, _, err := inflate(f, size, path)
	if err != nil {
		return nil, err
	}
	return DecodeHeader(r, path)
}

// DecodeHeader parses a NIfTI-1 or NIfTI-2 header from r (uncompressed).
// name names the file in errors.
func DecodeHeader(r io.Reader, name string) (*Header, error) {
	buf := make([]byte, sizeofHeader2)
	if _, err := io.ReadFull(r, buf[:4]); err != nil {
		return nil, source.Formatf(name, "no NIfTI header: %w", err)
	}
	h := &Header{Path: name}
	switch {
	case binary.LittleEndian.Uint32(buf) == sizeofHeader1:
		h.Version, h.order = 1, binary.LittleEndian
	case binary.BigEndian.Uint32(buf) == sizeofHeader1:
		h.Version, h.order = 1, binary.BigEndian
	case binary.LittleEndian.Uint32(buf) == sizeofHeader2:
		h.Version, h.order = 2, binary.LittleEndian
	case binary.BigEndian.Uint32(buf) == sizeofHeader2:
		h.Version, h.order = 2, binary.BigEndian
	default:
		return nil, source.Formatf(name, "sizeof_hdr is %d, not 348 (NIfTI-1) or 540 (NIfTI-2)", binary.LittleEndian.Uint32(buf))
	}
	size := sizeofHeader1
	if h.Version == 2 {
		size = sizeofHeader2
	}
	if _, err := io.ReadFull(r, buf[4:size]); err != nil {
		return nil, source.Formatf(name, "header cut short: %w", err)
	}
	var err error
	if h.Version == 1 {
		err = h.parse1(buf[:size])
	} else {
		err = h.parse2(buf[:size])
	}
	if err != nil {
		var ue *source.UnsupportedError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &source.FormatError{Path: name, Err: err}
	}
	return h, nil
}

func (h *Header) parse1(b []byte) error {
	o := h.order
	if m := string(b[344:348]); m != "n+1\x00" {
		if m == "ni1\x00" {
			return &source.UnsupportedError{Path: h.Path, Feature: "a NIfTI-1 header without its image (.hdr/.img pair)",
				Hint: "save it as one .nii file"}
		}
		return fmt.Errorf("magic %q is not NIfTI-1's \"n+1\"", m)
	}
	var dim [8]int64
	for i := range dim {
		dim[i] = int64(int16(o.Uint16(b[40+2*i:])))
	}
	h.Datatype = int16(o.Uint16(b[70:]))
	var pix [8]float64
	for i := range pix {
		pix[i] = float64(math.Float32frombits(o.Uint32(b[76+4*i:])))
	}
	h.VoxOffset = int64(math.Float32frombits(o.Uint32(b[108:])))
	h.Slope = float64(math.Float32frombits(o.Uint32(b[112:])))
	h.Inter = float64(math.Float32frombits(o.Uint32(b[116:])))
	h.QformCode = int(int16(o.Uint16(b[252:])))
	h.SformCode = int(int16(o.Uint16(b[254:])))
	for i := range 3 {
		h.Quatern[i] = float64(math.Float32frombits(o.Uint32(b[256+4*i:])))
		h.Qoffset[i] = float64(math.Float32frombits(o.Uint32(b[268+4*i:])))
		for j := range 4 {
			h.Srow[i][j] = float64(math.Float32frombits(o.Uint32(b[280+16*i+4*j:])))
		}
	}
	return h.finish(dim, pix)
}

func (h *Header) parse2(b []byte) error {
	o := h.order
	if m := string(b[4:8]); m != "n+2\x00" {
		if m == "ni2\x00" {
			return &source.UnsupportedError{Path: h.Path, Feature: "a NIfTI-2 header without its image (.hdr/.img pair)",
				Hint: "save it as one .nii file"}
		}
		return fmt.Errorf("magic %q is not NIfTI-2's \"n+2\"", m)
	}
	h.Datatype = int16(o.Uint16(b[12:]))
	var dim [8]int64
	for i := range dim {
		dim[i] = int64(o.Uint64(b[16+8*i:]))
	}
	var pix [8]float64
	for i := range pix {
		pix[i] = math.Float64frombits(o.Uint64(b[104+8*i:]))
	}
	h.VoxOffset = int64(o.Uint64(b[168:]))
	h.Slope = math.Float64frombits(o.Uint64(b[176:]))
	h.Inter = math.Float64frombits(o.Uint64(b[184:]))
	h.QformCode = int(int32(o.Uint32(b[344:])))
	h.SformCode = int(int32(o.Uint32(b[348:])))
	for i := range 3 {
		h.Quatern[i] = math.Float64frombits(o.Uint64(b[352+8*i:]))
		h.Qoffset[i] = math.Float64frombits(o.Uint64(b[376+8*i:]))
		for j := range 4 {
			h.Srow[i][j] = math.Float64frombits(o.Uint64(b[400+32*i+8*j:]))
		}
	}
	return h.finish(dim, pix)
}

// finish checks the dimensions and the datatype shared by both versions.
func (h *Header) finish(dim [8]int64, pix [8]float64) error {
	n := dim[0]
	if n < 3 || n > 7 {
		return &source.UnsupportedError{Path: h.Path, Feature: fmt.Sprintf("a %d-D image (dim[0] = %d)", n, n)}
	}
	for i := int64(4); i <= n; i++ {
		if dim[i] != 1 {
			return &source.UnsupportedError{Path: h.Path, Feature: fmt.Sprintf("a %d-D image with %d volumes along axis %d", n, dim[i], i),
				Hint: "keep one volume per file"}
		}
	}
	total := int64(1)
	for i := range 3 {
		if dim[i+1] < 1 || dim[i+1] > 1<<20 {
			return fmt.Errorf("dim[%d] = %d is not a positive size", i+1, dim[i+1])
		}
		h.Dim[i] = int(dim[i+1])
		total *= dim[i+1]
	}
	if total > 1<<32 {
		return fmt.Errorf("dim %v: %d voxels is more than voxmine handles", h.Dim, total)
	}
	dt, ok := datatypes[h.Datatype]
	if !ok {
		return &source.UnsupportedError{Path: h.Path, Feature: fmt.Sprintf("datatype %d (only integer and real scalars)", h.Datatype)}
	}
	_ = dt
	copy(h.Pixdim[:], pix[:4])
	for i := 1; i <= 3; i++ {
		if math.IsNaN(pix[i]) || math.IsInf(pix[i], 0) || pix[i] == 0 || math.Abs(pix[i]) > 1e4 {
			return fmt.Errorf("pixdim[%d] = %v is not a voxel size", i, pix[i])
		}
	}
	minOffset := int64(sizeofHeader1 + 4)
	if h.Version == 2 {
		minOffset = sizeofHeader2 + 4
	}
	if h.VoxOffset < minOffset {
		h.VoxOffset = minOffset // some writers leave it 0; the data follows the header and its extension flag
	}
	if math.IsNaN(h.Slope) || math.IsInf(h.Slope, 0) || math.IsNaN(h.Inter) || math.IsInf(h.Inter, 0) {
		return fmt.Errorf("scl_slope %v, scl_inter %v are not numbers", h.Slope, h.Inter)
	}
	return nil
}

// Geometry places the grid in ITK's LPS world. It fails, as ITK does,
// when neither transform is usable.
func (h *Header) Geometry() (grid.Geometry, error) {
	g := grid.Geometry{Shape: [3]int{h.Dim[2], h.Dim[1], h.Dim[0]}}
	var err error
	g.Spacing, g.Origin, g.Direction, err = h.affine()
	if err != nil {
		return g, &source.FormatError{Path: h.Path, Err: err}
	}
	return g, nil
}

// readData reads the raw element bytes that start at VoxOffset; r is
// positioned just after the header, and at most bound bytes can follow it
// (−1: unknown). A damaged header that claims more than the file can hold
// costs an error, not the memory it claims: with no bound the buffer grows
// with the data that is really there.
func (h *Header) readData(r io.Reader, bound int64) ([]byte, error) {
	if err := h.skipToData(r); err != nil {
		return nil, err
	}
	need := int64(h.Voxels()) * int64(datatypes[h.Datatype].size)
	if bound >= 0 && bound-h.VoxOffset < need {
		return nil, source.Formatf(h.Path, "image data holds at most %d bytes, but dim %v of %s needs %d (truncated?)", max(0, bound-h.VoxOffset), h.Dim, h.ElementType(), need)
	}
	if bound >= 0 {
		buf := make([]byte, need)
		if n, err := io.ReadFull(r, buf); err != nil {
			return nil, source.Formatf(h.Path, "image data holds %d bytes, but dim %v of %s needs %d (truncated?)", n, h.Dim, h.ElementType(), need)
		}
		return buf, nil
	}
	var buf bytes.Buffer
	buf.Grow(int(min(need, 1<<20))) // no bound: grow with what is read
	n, err := io.Copy(&buf, io.LimitReader(r, need))
	if err != nil {
		return nil, source.Formatf(h.Path, "image data: %w", err)
	}
	if n < need {
		return nil, source.Formatf(h.Path, "image data holds %d bytes, but dim %v of %s needs %d (truncated?)", n, h.Dim, h.ElementType(), need)
	}
	return buf.Bytes(), nil
}
