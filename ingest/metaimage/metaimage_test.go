package metaimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voxmine/ingest/source"
)

func testHeader() *Header {
	return &Header{DimSize: [3]int{5, 4, 3}, Spacing: [3]float64{0.7, 0.8, 2.5},
		Origin: [3]float64{-10.5, 20, -300.25}, Direction: [9]float64{-1, 0, 0, 0, -1, 0, 0, 0, 1}}
}

func ramp(n int) []int16 {
	v := make([]int16, n)
	for i := range v {
		v[i] = int16(i*37 - 1024)
	}
	return v
}

func TestWriteReadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ext  string
		o    WriteOptions
	}{
		{"plain", ".mhd", WriteOptions{}},
		{"big-endian", ".mhd", WriteOptions{MSB: true}},
		{"zlib", ".mhd", WriteOptions{Compress: true}},
		{"header size", ".mhd", WriteOptions{HeaderSize: 100}},
		{"local", ".mha", WriteOptions{Local: true}},
		{"local zlib", ".mha", WriteOptions{Local: true, Compress: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "1.2.3"+tc.ext)
			h, want := testHeader(), ramp(60)
			if err := WriteImage(path, h, want, tc.o); err != nil {
				t.Fatal(err)
			}
			got, data, err := ReadCT(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.DimSize != h.DimSize || got.Spacing != h.Spacing || got.Origin != h.Origin || got.Direction != h.Direction {
				t.Errorf("geometry %+v, wrote %+v", got, h)
			}
			for i := range want {
				if data[i] != want[i] {
					t.Fatalf("voxel %d: %d, wrote %d", i, data[i], want[i])
				}
			}
		})
	}
}

// writeRaw writes a header and raw data by hand, for element types and
// forms WriteImage does not produce.
func writeRaw(t *testing.T, header string, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "scan.mhd")
	if err := os.WriteFile(path, []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		os.WriteFile(filepath.Join(dir, "scan.raw"), data, 0o644)
	}
	return path
}

const hdr = "ObjectType = Image\nNDims = 3\nDimSize = 2 2 1\nElementSpacing = 1 1 1\n"

func TestElementTypes(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		etype string
		data  []byte
		want  []int16
	}{
		{"MET_CHAR", []byte{0x80, 0xff, 0, 127}, []int16{-128, -1, 0, 127}},
		{"MET_UCHAR", []byte{0, 1, 200, 255}, []int16{0, 1, 200, 255}},
		{"MET_USHORT", le.AppendUint16(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0), 1), 1000), 32767), []int16{0, 1, 1000, 32767}},
		{"MET_INT", i32s(-1000, 0, 40, -32768), []int16{-1000, 0, 40, -32768}},
		{"MET_LONG", i32s(-1, 2, 3, 4), []int16{-1, 2, 3, 4}},
		{"MET_UINT", i32s(1, 2, 3, 4), []int16{1, 2, 3, 4}},
		{"MET_LONG_LONG", i64s(-5, 6, 7, 8), []int16{-5, 6, 7, 8}},
		{"MET_ULONG_LONG", i64s(5, 6, 7, 8), []int16{5, 6, 7, 8}},
		{"MET_FLOAT", f32s(-1000.4, 0.5, 1.5, 40), []int16{-1000, 0, 2, 40}},
		{"MET_DOUBLE", f64s(-1024, 3.2, -3.7, 12), []int16{-1024, 3, -4, 12}},
	}
	for _, tc := range tests {
		t.Run(tc.etype, func(t *testing.T) {
			path := writeRaw(t, hdr+"ElementType = "+tc.etype+"\nElementDataFile = scan.raw\n", tc.data)
			_, got, err := ReadCT(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("voxel %d: %d, want %d", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func i32s(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

func i64s(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f64s(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, header string
		data         []byte
		want         string
		unsupported  bool // a valid variant voxmine does not read, not a broken file
	}{
		{"missing data file", hdr + "ElementType = MET_SHORT\nElementDataFile = gone.raw\n", nil, "does not exist", false},
		{"truncated data", hdr + "ElementType = MET_SHORT\nElementDataFile = scan.raw\n", []byte{1, 2, 3}, "truncated", false},
		// A header that claims 4·10⁹ voxels over 3 bytes: refused before
		// 8 GB are allocated.
		{"claims billions of voxels", "NDims = 3\nDimSize = 4000 4000 250\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", []byte{1, 2, 3}, "truncated", false},
		{"compressed, claims billions", "NDims = 3\nDimSize = 4000 4000 250\nCompressedData = True\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", []byte("garbage!"), "cannot expand", false},
		{"bad number", "NDims = 3\nDimSize = 2 x 1\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", nil, `bad number "x"`, false},
		{"missing DimSize", "NDims = 3\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", nil, "missing key DimSize", false},
		{"missing NDims", "DimSize = 1 1 1\n", nil, "before NDims", false},
		{"NDims 2", "NDims = 2\nDimSize = 2 2\n", nil, "only 3-D", true},
		{"channels", hdr + "ElementNumberOfChannels = 3\n", nil, "single-channel", true},
		{"unsupported type", hdr + "ElementType = MET_FLOAT_MATRIX\n", nil, `"MET_FLOAT_MATRIX" is not supported`, true},
		{"list", hdr + "ElementType = MET_SHORT\nElementDataFile = LIST\n", nil, "LIST", true},
		{"pattern", hdr + "ElementType = MET_SHORT\nElementDataFile = s.%03d 1 1 1\n", nil, "pattern", true},
		{"not key value", hdr + "hello\n", nil, "Key = Value", false},
		{"no data file key", hdr + "ElementType = MET_SHORT\n", nil, "ElementDataFile", false},
		{"zero spacing", "NDims = 3\nDimSize = 1 1 1\nElementSpacing = 1 0 1\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", nil, "spacing", false},
		{"singular", hdr + "TransformMatrix = 1 0 0 1 0 0 0 0 1\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", nil, "singular", false},
		{"ascii", hdr + "BinaryData = False\n", nil, "ASCII", true},
		{"not zlib", hdr + "CompressedData = True\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", []byte("garbage!"), "zlib", false},
		{"out of int16", hdr + "ElementType = MET_INT\nElementDataFile = scan.raw\n", i32s(1, 2, 40000, 4), "does not fit int16", false},
		{"NaN", hdr + "ElementType = MET_FLOAT\nElementDataFile = scan.raw\n", f32s(1, float32(math.NaN()), 3, 4), "does not fit", false},
		{"binary junk", "\x00\x01\x02", nil, "binary", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRaw(t, tc.header, tc.data)
			_, _, err := ReadCT(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, path, tc.want)
			}
			var fe *source.FormatError
			var ue *source.UnsupportedError
			switch {
			case tc.unsupported && (!errors.As(err, &ue) || !errors.Is(err, source.ErrUnsupported) || ue.Path != path):
				t.Errorf("got %v (%T), want a *source.UnsupportedError for %s", err, err, path)
			case !tc.unsupported && (!errors.As(err, &fe) || fe.Path != path):
				t.Errorf("got %v (%T), want a *source.FormatError for %s", err, err, path)
			}
		})
	}
}

func TestGzipAndHeaderSizeMinusOne(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(i16s(1, -2, 3, -4))
	zw.Close()
	path := writeRaw(t, hdr+"CompressedData = True\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", buf.Bytes())
	if _, got, err := ReadCT(path); err != nil || got[3] != -4 {
		t.Errorf("gzip: %v %v", got, err)
	}
	data := append([]byte("some leading bytes"), i16s(9, 8, 7, 6)...)
	path = writeRaw(t, hdr+"HeaderSize = -1\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", data)
	if _, got, err := ReadCT(path); err != nil || got[0] != 9 {
		t.Errorf("HeaderSize -1: %v %v", got, err)
	}
	// Synonyms and the column-by-column matrix.
	path = writeRaw(t, "NDims = 3\nDimSize = 2 2 1\nElementSize = 2 3 4\nPosition = 1 2 3\nOrientation = 0 1 0 -1 0 0 0 0 1\n"+
		"ElementByteOrderMSB = True\nElementType = MET_SHORT\nElementDataFile = scan.raw\n", []byte{0, 1, 0, 2, 0, 3, 0, 4})
	h, got, err := ReadCT(path)
	if err != nil || got[1] != 2 || h.Spacing != [3]float64{2, 3, 4} || h.Origin != [3]float64{1, 2, 3} {
		t.Fatalf("synonyms: %+v %v %v", h, got, err)
	}
	// Axis 0 points along +y, axis 1 along −x: column 0 of D is (0, 1, 0).
	if h.Direction != [9]float64{0, -1, 0, 1, 0, 0, 0, 0, 1} {
		t.Errorf("direction %v", h.Direction)
	}
}

func i16s(v ...int16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return b
}

func TestReadLabels(t *testing.T) {
	path := writeRaw(t, hdr+"ElementType = MET_SHORT\nElementDataFile = scan.raw\n", i16s(0, 3, 4, 5))
	if _, m, err := ReadLabels(path); err != nil || m[1] != 3 || m[3] != 5 {
		t.Errorf("labels %v %v", m, err)
	}
	path = writeRaw(t, hdr+"ElementType = MET_SHORT\nElementDataFile = scan.raw\n", i16s(0, 3, 400, 5))
	if _, _, err := ReadLabels(path); err == nil || !strings.Contains(err.Error(), "0…255") {
		t.Errorf("label 400: %v", err)
	}
}

// FuzzReadImage feeds arbitrary headers and data to the reader: it may
// return an error, never panic. The seed corpus is in testdata/fuzz.
func FuzzReadImage(f *testing.F) {
	f.Add([]byte(hdr+"ElementType = MET_SHORT\nElementDataFile = LOCAL\n"), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte(hdr+"CompressedData = True\nCompressedDataSize = 3\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n"), []byte{0x78, 0x9c, 0})
	f.Add([]byte(hdr+"HeaderSize = -1\nElementType = MET_DOUBLE\nElementDataFile = LOCAL\n"), f64s(1, 2, 3, 4))
	f.Fuzz(func(t *testing.T, header, data []byte) {
		path := filepath.Join(t.TempDir(), "f.mha")
		os.WriteFile(path, append(append([]byte(nil), header...), data...), 0o644)
		if h, err := ReadHeader(path); err == nil && h.Voxels() > 1<<20 {
			return // a valid header for a huge image: not worth allocating
		}
		ReadCT(path)
		ReadLabels(path)
	})
}
