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
	path := name
	h := &Header{Path: path, Spacing: [3]float64{1, 1, 1}, Direction: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1},
		CompressedSize: -1}
	fail := func(format string, a ...any) (*Header, error) {
		err := fmt.Errorf(format, a...)
		var u unsupported
		if errors.As(err, &u) {
			return nil, &source.UnsupportedError{Path: path, Feature: u.feature}
		}
		return nil, &source.FormatError{Path: path, Err: err}
	}
	unsup := func(feature string) (*Header, error) {
		return nil, &source.UnsupportedError{Path: path, Feature: feature}
	}
	br := bufio.NewReaderSize(io.LimitReader(r, maxHeaderBytes), 4096)
	var offset int64
	ndims, channels := -1, 1
	seen := map[string]bool{}
	var spacing, size []float64
	var dataFile string
	for line := 1; ; line++ {
		raw, err := br.ReadString('\n')
		offset += int64(len(raw))
		if err != nil && err != io.EOF {
			return fail("%v", err)
		}
		if raw == "" && err == io.EOF {
			break
		}
		text := strings.TrimRight(raw, "\r\n")
		if strings.TrimSpace(text) == "" {
			if err == io.EOF {
				break
			}
			continue
		}
		if strings.IndexByte(text, 0) >= 0 {
			return fail("line %d: binary data before ElementDataFile", line)
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return fail("line %d: %q is not \"Key = Value\"", line, text)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		h.Keys = append(h.Keys, key)
		seen[key] = true
		nums := func(n int) ([]float64, error) {
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
		needDims := func() error {
			if ndims < 0 {
				return fmt.Errorf("%s comes before NDims", key)
			}
			return nil
		}
		var perr error
		switch key {
		case "ObjectType":
			if val != "Image" {
				perr = fmt.Errorf("ObjectType %q is not Image", val)
			}
		case "NDims":
			n, err := strconv.Atoi(val)
			if err != nil {
				perr = fmt.Errorf("NDims: bad number %q", val)
			} else if n != 3 {
				perr = unsupported{fmt.Sprintf("NDims = %d (only 3-D images)", n)}
			}
			ndims = n
		case "DimSize":
			if perr = needDims(); perr == nil {
				size, perr = nums(3)
			}
		case "ElementSpacing", "ElementSize":
			if perr = needDims(); perr == nil {
				var v []float64
				if v, perr = nums(3); perr == nil && (key == "ElementSpacing" || spacing == nil) {
					spacing = v
				}
			}
		case "Offset", "Position", "Origin":
			if perr = needDims(); perr == nil {
				var v []float64
				if v, perr = nums(3); perr == nil {
					copy(h.Origin[:], v)
				}
			}
		case "TransformMatrix", "Rotation", "Orientation":
			if perr = needDims(); perr == nil {
				var v []float64
				if v, perr = nums(9); perr == nil {
					// Written axis by axis: group i is axis i's direction,
					// which is column i of ITK's direction matrix.
					for axis := range 3 {
						for r := range 3 {
							h.Direction[r*3+axis] = v[axis*3+r]
						}
					}
				}
			}
		case "BinaryDataByteOrderMSB", "ElementByteOrderMSB":
			h.MSB, perr = parseBool(key, val)
		case "BinaryData":
			var b bool
			if b, perr = parseBool(key, val); perr == nil && !b {
				perr = unsupported{"BinaryData = False (ASCII data)"}
			}
		case "CompressedData":
			h.Compressed, perr = parseBool(key, val)
		case "CompressedDataSize":
			h.CompressedSize, perr = strconv.ParseInt(val, 10, 64)
			if perr != nil || h.CompressedSize < 0 {
				perr = fmt.Errorf("CompressedDataSize: bad number %q", val)
			}
		case "HeaderSize":
			h.HeaderSize, perr = strconv.ParseInt(val, 10, 64)
			if perr != nil || h.HeaderSize < -1 {
				perr = fmt.Errorf("HeaderSize: bad number %q", val)
			}
		case "ElementNumberOfChannels":
			channels, perr = strconv.Atoi(val)
			if perr != nil {
				perr = fmt.Errorf("ElementNumberOfChannels: bad number %q", val)
			} else if channels != 1 {
				perr = unsupported{fmt.Sprintf("ElementNumberOfChannels = %d (only single-channel images)", channels)}
			}
		case "ElementType":
			if _, ok := elementSizes[val]; !ok {
				perr = unsupported{fmt.Sprintf("ElementType %q", val)}
			}
			h.ElementType = val
		case "ElementDataFile":
			dataFile = val
		}
		if perr != nil {
			return fail("line %d: %w", line, perr)
		}
		if key == "ElementDataFile" {
			break
		}
		if err == io.EOF {
			break
		}
	}
	switch {
	case ndims < 0:
		return fail("missing key NDims")
	case size == nil:
		return fail("missing key DimSize")
	case h.ElementType == "":
		return fail("missing key ElementType")
	case dataFile == "":
		return fail("missing key ElementDataFile (it must be the last key)")
	}
	for i, v := range size {
		if v < 1 || v != float64(int(v)) || v > 1<<20 {
			return fail("DimSize %v: size %d is not a positive whole number", size, i)
		}
		h.DimSize[i] = int(v)
	}
	if h.Voxels() > 1<<32 {
		return fail("DimSize %v: %d voxels is more than voxmine handles", size, h.Voxels())
	}
	if spacing != nil {
		copy(h.Spacing[:], spacing)
	}
	for i, s := range h.Spacing {
		if !(s > 0) || s > 1e4 {
			return fail("spacing %v: axis %d is not a positive size", h.Spacing, i)
		}
	}
	det := h.Direction[0]*(h.Direction[4]*h.Direction[8]-h.Direction[5]*h.Direction[7]) -
		h.Direction[1]*(h.Direction[3]*h.Direction[8]-h.Direction[5]*h.Direction[6]) +
		h.Direction[2]*(h.Direction[3]*h.Direction[7]-h.Direction[4]*h.Direction[6])
	if det == 0 {
		return fail("TransformMatrix %v is singular", h.Direction)
	}
	switch fs := strings.Fields(dataFile); {
	case dataFile == "LOCAL":
		h.Local, h.DataFile, h.dataStart = true, path, offset
	case dataFile == "LIST" || strings.HasPrefix(dataFile, "LIST "):
		return unsup("ElementDataFile = LIST (one file per slice)")
	case len(fs) == 4 && strings.Contains(fs[0], "%"):
		return unsup(fmt.Sprintf("ElementDataFile pattern %q (one file per slice)", dataFile))
	default:
		h.DataFile = dataFile
		if !filepath.IsAbs(dataFile) {
			h.DataFile = filepath.Join(filepath.Dir(path), dataFile)
		}
	}
	return h, nil
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
