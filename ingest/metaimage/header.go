package metaimage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"voxmine/ingest/source"
	"voxmine/store/grid"
)

// Header is a parsed MetaImage (.mhd/.mha) header for a 3-D, one-channel
// image. Arrays are in ITK order (x, y, z).
type Header struct {
	// Path is the header file.
	Path      string
	DimSize   [3]int
	Spacing   [3]float64
	Origin    [3]float64
	Direction [9]float64 // row-major; column i is the direction of axis i
	// ElementType is the MET_ type name.
	ElementType string
	MSB         bool
	Compressed  bool
	// CompressedSize is CompressedDataSize, or −1 when not given.
	CompressedSize int64
	// HeaderSize bytes are skipped before the data; −1 means the data is
	// the end of the file.
	HeaderSize int64
	// DataFile is the resolved data file path; for LOCAL it is Path.
	DataFile string
	// Local is true for ElementDataFile = LOCAL.
	Local bool
	// dataStart is where the data begins in a LOCAL file.
	dataStart int64
	// Keys lists the header's keys in file order (for writers that copy).
	Keys []string
}

// elementSizes maps MetaIO's element types to their size in bytes.
var elementSizes = map[string]int{
	"MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2,
	"MET_INT": 4, "MET_UINT": 4, "MET_LONG": 4, "MET_ULONG": 4,
	"MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8,
}

// ElementSize returns the byte size of one voxel.
func (h *Header) ElementSize() int { return elementSizes[h.ElementType] }

// Voxels returns the number of voxels.
func (h *Header) Voxels() int { return h.DimSize[0] * h.DimSize[1] * h.DimSize[2] }

// maxHeaderBytes bounds how much of a file is read looking for
// ElementDataFile, so a binary file given by mistake fails fast.
const maxHeaderBytes = 1 << 16

// ReadHeader parses the MetaImage header in file path. Errors name the
// file and the key: a *source.FormatError for a broken header, a
// *source.UnsupportedError for a valid one voxmine does not read.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeHeader(f, path)
}

// unsupported marks a parse error as a valid variant voxmine does not
// read, as opposed to a broken header.
type unsupported struct{ feature string }

func (u unsupported) Error() string { return u.feature + " is not supported" }

// DecodeHeader parses a MetaImage header from r. name is the header's
// path: it names the file in errors and locates a data file given by a
// relative name.
func DecodeHeader(r io.Reader, name string) (*Header, error) {
	d := &headerDecoder{h: &Header{Path: name, Spacing: [3]float64{1, 1, 1}, Direction: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
		CompressedSize: -1}, ndims: -1}
	if err := d.readKeys(r); err != nil {
		return nil, d.wrap(err)
	}
	if err := d.finish(); err != nil {
		return nil, d.wrap(err)
	}
	return d.h, nil
}

// headerDecoder is DecodeHeader's state: the header being filled and what
// the keys said that the checks at the end need.
type headerDecoder struct {
	h             *Header
	offset        int64 // bytes read, where LOCAL data starts
	ndims         int   // −1 until NDims
	spacing, size []float64
	dataFile      string
}

// wrap makes err a FormatError of the header's file, or an
// UnsupportedError when it names a variant voxmine does not read.
func (d *headerDecoder) wrap(err error) error {
	var u unsupported
	if errors.As(err, &u) {
		return &source.UnsupportedError{Path: d.h.Path, Feature: u.feature}
	}
	return &source.FormatError{Path: d.h.Path, Err: err}
}

// readKeys reads "Key = Value" lines up to ElementDataFile, which ends
// the header.
func (d *headerDecoder) readKeys(r io.Reader) error {
	br := bufio.NewReaderSize(io.LimitReader(r, maxHeaderBytes), 4096)
	for line := 1; ; line++ {
		raw, err := br.ReadString('\n')
		d.offset += int64(len(raw))
		if err != nil && err != io.EOF {
			return err
		}
		if raw == "" && err == io.EOF {
			return nil
		}
		text := strings.TrimRight(raw, "\r\n")
		if strings.TrimSpace(text) == "" {
			if err == io.EOF {
				return nil
			}
			continue
		}
		if strings.IndexByte(text, 0) >= 0 {
			return fmt.Errorf("line %d: binary data before ElementDataFile", line)
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("line %d: %q is not \"Key = Value\"", line, text)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		d.h.Keys = append(d.h.Keys, key)
		if perr := d.set(key, val); perr != nil {
			return fmt.Errorf("line %d: %w", line, perr)
		}
		if key == "ElementDataFile" || err == io.EOF {
			return nil
		}
	}
}

// set takes one key's value.
func (d *headerDecoder) set(key, val string) error {
	h := d.h
	nums := func(n int) ([]float64, error) {
		if d.ndims < 0 {
			return nil, fmt.Errorf("%s comes before NDims", key)
		}
		fs := strings.Fields(val)
		if n > 0 && len(fs) != n {
			return nil, fmt.Errorf("%s: %d numbers, want %d", key, len(fs), n)
		}
		out := make([]float64, len(fs))
		for i, s := range fs {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad number %q", key, s)
			}
			out[i] = v
		}
		return out, nil
	}
	var err error
	switch key {
	case "ObjectType":
		if val != "Image" {
			return fmt.Errorf("ObjectType %q is not Image", val)
		}
	case "NDims":
		n, err := strconv.Atoi(val)
		d.ndims = n
		if err != nil {
			return fmt.Errorf("NDims: bad number %q", val)
		} else if n != 3 {
			return unsupported{fmt.Sprintf("NDims = %d (only 3-D images)", n)}
		}
	case "DimSize":
		d.size, err = nums(3)
	case "ElementSpacing", "ElementSize":
		var v []float64
		if v, err = nums(3); err == nil && (key == "ElementSpacing" || d.spacing == nil) {
			d.spacing = v
		}
	case "Offset", "Position", "Origin":
		var v []float64
		if v, err = nums(3); err == nil {
			copy(h.Origin[:], v)
		}
	case "TransformMatrix", "Rotation", "Orientation":
		var v []float64
		if v, err = nums(9); err == nil {
			// Written axis by axis: group i is axis i's direction, which is
			// column i of ITK's direction matrix.
			for axis := range 3 {
				for r := range 3 {
					h.Direction[r*3+axis] = v[axis*3+r]
				}
			}
		}
	case "BinaryDataByteOrderMSB", "ElementByteOrderMSB":
		h.MSB, err = parseBool(key, val)
	case "BinaryData":
		var b bool
		if b, err = parseBool(key, val); err == nil && !b {
			return unsupported{"BinaryData = False (ASCII data)"}
		}
	case "CompressedData":
		h.Compressed, err = parseBool(key, val)
	case "CompressedDataSize":
		h.CompressedSize, err = strconv.ParseInt(val, 10, 64)
		if err != nil || h.CompressedSize < 0 {
			return fmt.Errorf("CompressedDataSize: bad number %q", val)
		}
	case "HeaderSize":
		h.HeaderSize, err = strconv.ParseInt(val, 10, 64)
		if err != nil || h.HeaderSize < -1 {
			return fmt.Errorf("HeaderSize: bad number %q", val)
		}
	case "ElementNumberOfChannels":
		channels, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("ElementNumberOfChannels: bad number %q", val)
		} else if channels != 1 {
			return unsupported{fmt.Sprintf("ElementNumberOfChannels = %d (only single-channel images)", channels)}
		}
	case "ElementType":
		h.ElementType = val
		if _, ok := elementSizes[val]; !ok {
			return unsupported{fmt.Sprintf("ElementType %q", val)}
		}
	case "ElementDataFile":
		d.dataFile = val
	}
	return err
}

// finish checks what the keys said and places the data.
func (d *headerDecoder) finish() error {
	h, size := d.h, d.size
	switch {
	case d.ndims < 0:
		return errors.New("missing key NDims")
	case size == nil:
		return errors.New("missing key DimSize")
	case h.ElementType == "":
		return errors.New("missing key ElementType")
	case d.dataFile == "":
		return errors.New("missing key ElementDataFile (it must be the last key)")
	}
	for i, v := range size {
		if v < 1 || v != float64(int(v)) || v > 1<<20 {
			return fmt.Errorf("DimSize %v: size %d is not a positive whole number", size, i)
		}
		h.DimSize[i] = int(v)
	}
	if h.Voxels() > 1<<32 {
		return fmt.Errorf("DimSize %v: %d voxels is more than voxmine handles", size, h.Voxels())
	}
	if d.spacing != nil {
		copy(h.Spacing[:], d.spacing)
	}
	for i, s := range h.Spacing {
		if !(s > 0) || s > 1e4 {
			return fmt.Errorf("spacing %v: axis %d is not a positive size", h.Spacing, i)
		}
	}
	det := h.Direction[0]*(h.Direction[4]*h.Direction[8]-h.Direction[5]*h.Direction[7]) -
		h.Direction[1]*(h.Direction[3]*h.Direction[8]-h.Direction[5]*h.Direction[6]) +
		h.Direction[2]*(h.Direction[3]*h.Direction[7]-h.Direction[4]*h.Direction[6])
	if det == 0 {
		return fmt.Errorf("TransformMatrix %v is singular", h.Direction)
	}
	switch fs := strings.Fields(d.dataFile); {
	case d.dataFile == "LOCAL":
		h.Local, h.DataFile, h.dataStart = true, h.Path, d.offset
	case d.dataFile == "LIST" || strings.HasPrefix(d.dataFile, "LIST "):
		return unsupported{"ElementDataFile = LIST (one file per slice)"}
	case len(fs) == 4 && strings.Contains(fs[0], "%"):
		return unsupported{fmt.Sprintf("ElementDataFile pattern %q (one file per slice)", d.dataFile)}
	default:
		h.DataFile = d.dataFile
		if !filepath.IsAbs(d.dataFile) {
			h.DataFile = filepath.Join(filepath.Dir(h.Path), d.dataFile)
		}
	}
	return nil
}

func parseBool(key, val string) (bool, error) {
	switch strings.ToLower(val) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%s: %q is not True or False", key, val)
}

// Geometry returns the header's grid as a grid.Geometry.
func (h *Header) Geometry() grid.Geometry {
	return grid.Geometry{
		Shape:  [3]int{h.DimSize[2], h.DimSize[1], h.DimSize[0]},
		Origin: h.Origin, Spacing: h.Spacing, Direction: h.Direction,
	}
}
