package dicom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"voxmine/ingest/source"
	"voxmine/internal/workpool"
	"voxmine/store/grid"
)

// headerPrefix is how much of a file is read first to find its header.
// A longer header (an enhanced image's per-frame functional groups run to
// hundreds of kilobytes) is read in prefixes sixteen times larger, so a
// multi-frame file of hundreds of megabytes is not read whole for it.
const headerPrefix = 64 << 10

// ParseFile reads the header of a DICOM file (not its pixels).
func ParseFile(path string) (*Slice, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var buf []byte
	for size := int64(headerPrefix); ; size *= 16 {
		size = min(size, max(fi.Size(), 1)) // never more than the file
		have := len(buf)
		buf = append(buf, make([]byte, int(size)-have)...)
		n, err := io.ReadFull(f, buf[have:])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = buf[:have+n]
		s, err := parse(buf, path)
		if errors.Is(err, errShort) && int64(len(buf)) == size && size < fi.Size() {
			continue // the header goes on past what was read
		}
		if s != nil {
			s.pixels = nil // a prefix's pixels are not all there
		}
		return s, wrap(path, err)
	}
}

// Decode parses a whole DICOM file held in b, pixels included; name names
// it in errors.
func Decode(b []byte, name string) (*Slice, error) {
	s, err := parse(b, name)
	return s, wrap(name, err)
}

// readWhole parses a whole file, pixels included.
func readWhole(path string) (*Slice, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parse(b, path)
	return s, wrap(path, err)
}

func wrap(path string, err error) error {
	switch {
	case err == nil || errors.Is(err, errNotDICOM):
		return err
	case errors.Is(err, errShort):
		return source.Formatf(path, "the file ends inside its header (truncated?)")
	}
	return &source.FormatError{Path: path, Err: err}
}

// seriesUID is the series' uid, or the documented fallback when the
// anonymiser left SeriesInstanceUID empty: StudyInstanceUID and
// SeriesNumber, or, without a study uid, the folder's name and the series
// number. The fallback is stable across runs, so resuming works.
func seriesUID(s *Slice) string {
	if s.SeriesUID != "" {
		return s.SeriesUID
	}
	num := s.SeriesNumber
	if num == "" {
		num = "0"
	}
	if s.StudyUID != "" {
		return s.StudyUID + ".series-" + num
	}
	dir := filepath.Base(filepath.Dir(s.Path))
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, "folder-"+strings.TrimLeft(dir, ".")+".series-"+num)
}

// Stack is a sorted series ready to read.
type Stack struct {
	Slices   []*Slice // sorted along the normal
	Geometry grid.Geometry
	// Positions are the slices' distances along the normal from the first.
	Positions []float64
	// Even is false when the slices are not evenly spaced (or one is
	// missing): ReadCT then interpolates them onto an even grid of
	// Geometry's spacing on their true positions.
	Even  bool
	Notes []string
}

// normal is the cross product of the row and column directions.
func normal(o [6]float64) [3]float64 {
	return [3]float64{o[1]*o[5] - o[2]*o[4], o[2]*o[3] - o[0]*o[5], o[0]*o[4] - o[1]*o[3]}
}

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// NewStack sorts a series' slices and works out its geometry as ITK 5.2's
// series reader does, checking what real archives get wrong. name names
// the series in errors.
func NewStack(name string, slices []*Slice) (*Stack, error) {
	if len(slices) == 0 {
		return nil, fmt.Errorf("series %s: no image files", name)
	}
	sort.Slice(slices, func(i, j int) bool {
		a, b := slices[i], slices[j]
		return a.Path < b.Path || a.Path == b.Path && a.Frame < b.Frame
	})
	first := slices[0]
	fail := func(format string, a ...any) (*Stack, error) {
		return nil, &source.FormatError{Path: name, Err: fmt.Errorf(format, a...)}
	}
	for _, s := range slices {
		switch {
		case !s.HasPosition || !s.HasOrientation:
			return fail("%s has no ImagePositionPatient or ImageOrientationPatient", s.Name())
		case s.Rows != first.Rows || s.Columns != first.Columns:
			return fail("mixed sizes: %s is %d×%d, %s is %d×%d", first.Name(), first.Columns, first.Rows, s.Name(), s.Columns, s.Rows)
		case math.Abs(s.PixelSpacing[0]-first.PixelSpacing[0]) > 1e-4 || math.Abs(s.PixelSpacing[1]-first.PixelSpacing[1]) > 1e-4:
			return fail("mixed pixel spacings: %s has %v, %s has %v", first.Name(), first.PixelSpacing, s.Name(), s.PixelSpacing)
		}
		for k := range 6 {
			if math.Abs(s.Orientation[k]-first.Orientation[k]) > 1e-4 {
				return fail("mixed orientations: %s has %v, %s has %v", first.Name(), first.Orientation, s.Name(), s.Orientation)
			}
		}
	}
	// The direction cosines, each scaled to unit length as GDCM does (DS
	// values carry 16 characters at most, so written cosines are rarely
	// exact), then their cross product.
	orient := first.Orientation
	for k := 0; k < 6; k += 3 {
		v := [3]float64{orient[k], orient[k+1], orient[k+2]}
		l := math.Sqrt(dot(v, v))
		if !(l > 0.99 && l < 1.01) {
			return fail("ImageOrientationPatient %v of %s is not two unit vectors", first.Orientation, first.Name())
		}
		for i := range 3 {
			orient[k+i] /= l
		}
	}
	n := normal(orient)
	if l := math.Sqrt(dot(n, n)); !(l > 0.99 && l < 1.01) {
		return fail("ImageOrientationPatient %v of %s is not two orthogonal vectors", first.Orientation, first.Name())
	}
	dist := func(s *Slice) float64 { return dot(n, s.Position) }
	sort.SliceStable(slices, func(i, j int) bool { return dist(slices[i]) < dist(slices[j]) })
	// The same SOP instance twice (a file copied under another name, as
	// downloads and exports sometimes hold) is read once; two different
	// images at one position are an error.
	kept := make([]*Slice, 0, len(slices))
	dups := 0
	for _, s := range slices {
		if n := len(kept); n > 0 && dist(s)-dist(kept[n-1]) < 1e-3 {
			if p := kept[n-1]; s.SOPUID != "" && s.SOPUID == p.SOPUID && s.Frame == p.Frame {
				dups++
				continue
			}
			return fail("duplicate slice position %.3f mm along the normal: %s and %s", dist(s), kept[n-1].Name(), s.Name())
		}
		kept = append(kept, s)
	}
	slices = kept
	st := &Stack{Slices: slices, Even: true}
	st.Positions = make([]float64, len(slices))
	for i, s := range slices {
		st.Positions[i] = dist(s) - dist(slices[0])
	}
	if dups > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("source: %d files repeat an image of the series (the same SOPInstanceUID at the same position) and were read once", dups))
	}
	first = slices[0]
	last := slices[len(slices)-1]
	g := grid.Geometry{Shape: [3]int{len(slices), first.Rows, first.Columns}, Origin: first.Position}
	g.Spacing = [3]float64{first.PixelSpacing[1], first.PixelSpacing[0], 1}
	for r := range 3 {
		g.Direction[r*3+0] = orient[r]
		g.Direction[r*3+1] = orient[3+r]
		g.Direction[r*3+2] = n[r] + 0 // + 0: no −0
	}
	if len(slices) > 1 {
		span := [3]float64{last.Position[0] - first.Position[0], last.Position[1] - first.Position[1], last.Position[2] - first.Position[2]}
		length := math.Sqrt(dot(span, span))
		// Gantry tilt: the slices are stacked along a line that is not the
		// normal of their planes; the grid would be sheared.
		if cos := math.Abs(dot(span, n)) / length; cos < math.Cos(0.5*math.Pi/180) {
			return fail("gantry tilt of %.1f° (GantryDetectorTilt %g): the slices are stacked obliquely to their planes, which a regular grid cannot hold; correct it first (dcm2niix does, or 3D Slicer's acquisition geometry regularization)",
				math.Acos(cos)*180/math.Pi, first.GantryTilt)
		}
		g.Spacing[2] = length / float64(len(slices)-1) // ITK's spacing
		// Uneven spacing or missing slices: ITK assumes even spacing; voxmine
		// interpolates onto an even grid on the true positions.
		gaps := make([]float64, len(slices)-1)
		for i := range gaps {
			gaps[i] = st.Positions[i+1] - st.Positions[i]
		}
		sorted := append([]float64(nil), gaps...)
		sort.Float64s(sorted)
		med := sorted[len(sorted)/2]
		lo, hi := sorted[0], sorted[len(sorted)-1]
		// A gap of more than two missing slices (and 5 mm) is part of the
		// scan lost, not a slice: interpolating it would invent anatomy
		// that negatives could be cut from. LUNA16 left such scans out.
		if hi > 3*med && hi > 5 {
			k := 0
			for gaps[k] != hi {
				k++
			}
			return fail("%.1f mm without a slice between %s and %s (the slices are %.3g mm apart elsewhere): about %d slices are missing; export the series again",
				hi, slices[k].Name(), slices[k+1].Name(), med, int(math.Round(hi/med))-1)
		}
		if hi-lo > 0.01*med+1e-3 {
			st.Even = false
			count := int(math.Round(st.Positions[len(slices)-1]/med)) + 1
			g.Spacing[2] = med
			g.Shape[0] = count
			st.Notes = append(st.Notes, fmt.Sprintf("source: uneven slice spacing (%.3g–%.3g mm between slices): %d slices interpolated to %d at an even %.4g mm on their true positions (ITK would assume %.4g mm)",
				lo, hi, len(slices), count, med, length/float64(len(slices)-1)))
		}
	}
	st.Geometry = g
	return st, nil
}

// ReadCT reads the stack's voxels as int16 HU (z, y, x), slices side by
// side on all cores (a JPEG 2000 slice takes tens of milliseconds to
// decode), stopping at the first error or when ctx is done.
func (st *Stack) ReadCT(ctx context.Context) ([]int16, error) {
	first := st.Slices[0]
	plane := first.Rows * first.Columns
	raw := make([]int16, len(st.Slices)*plane)
	// A multi-frame file is read once for all its frames.
	type file struct {
		once sync.Once
		s    *Slice
		err  error
	}
	files := map[string]*file{}
	for _, s := range st.Slices {
		if s.Frames > 1 && files[s.Path] == nil {
			files[s.Path] = &file{}
		}
	}
	err := workpool.Run(ctx, len(st.Slices), runtime.GOMAXPROCS(0), func(i int) error {
		s := st.Slices[i]
		f := files[s.Path]
		if f == nil {
			full, err := readWhole(s.Path)
			if err != nil {
				return err
			}
			return full.HU(raw[i*plane : (i+1)*plane])
		}
		f.once.Do(func() { f.s, f.err = readWhole(s.Path) })
		if f.err != nil {
			return f.err
		}
		frame := *s // the frame's geometry and rescale, the file's pixels
		frame.pixels, frame.pixelsAt, frame.encapsulated = f.s.pixels, f.s.pixelsAt, f.s.encapsulated
		return frame.HU(raw[i*plane : (i+1)*plane])
	})
	if err != nil {
		return nil, err
	}
	if st.Even {
		return raw, nil
	}
	return st.evenOut(raw, plane), nil
}

// evenOut interpolates slices at uneven positions onto the stack's even
// grid, linearly between the two nearest true slices, rounded to integers.
func (st *Stack) evenOut(raw []int16, plane int) []int16 {
	out := make([]int16, st.Geometry.Shape[0]*plane)
	j := 0
	for k := range st.Geometry.Shape[0] {
		z := float64(k) * st.Geometry.Spacing[2]
		for j+1 < len(st.Positions)-1 && st.Positions[j+1] <= z {
			j++
		}
		z0, z1 := st.Positions[j], st.Positions[min(j+1, len(st.Positions)-1)]
		t := 0.0
		if z1 > z0 {
			t = math.Min(math.Max((z-z0)/(z1-z0), 0), 1)
		}
		a, b := raw[j*plane:(j+1)*plane], raw[min(j+1, len(st.Positions)-1)*plane:]
		dst := out[k*plane : (k+1)*plane]
		for i := range dst {
			dst[i] = int16(math.RoundToEven(float64(a[i]) + (float64(b[i])-float64(a[i]))*t))
		}
	}
	return out
}

// HU converts a slice's native pixel data into dst (Rows × Columns values):
// the stored value (BitsStored bits, sign-extended when signed) times
// RescaleSlope plus RescaleIntercept, rounded, and checked to fit int16.
func (s *Slice) HU(dst []int16) error {
	if s.encapsulated && decodable(s.TransferSyntax) {
		return s.compressedHU(dst)
	}
	if s.encapsulated {
		name := compressedSyntaxes[s.TransferSyntax]
		if name == "" {
			name = "compressed transfer syntax " + s.TransferSyntax
		}
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("%s pixel data (transfer syntax %s)", name, s.TransferSyntax),
			Hint: "convert the series to uncompressed DICOM first, e.g. gdcmconv --raw IN OUT, or dcmdjpeg/dcmdjp2k"}
	}
	switch {
	case s.pixelsAt < 0:
		return source.Formatf(s.Path, "no pixel data")
	case s.SamplesPerPixel != 1:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("%d samples per pixel (colour)", s.SamplesPerPixel)}
	case s.BitsAllocated != 8 && s.BitsAllocated != 16 && s.BitsAllocated != 32:
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("BitsAllocated %d", s.BitsAllocated)}
	}
	stored := s.BitsStored
	if stored <= 0 || stored > s.BitsAllocated {
		stored = s.BitsAllocated
	}
	if s.HighBit != 0 && s.HighBit != stored-1 {
		return &source.UnsupportedError{Path: s.Path, Feature: fmt.Sprintf("HighBit %d with BitsStored %d", s.HighBit, stored)}
	}
	size := s.BitsAllocated / 8
	n := s.Rows * s.Columns
	if len(dst) != n {
		return fmt.Errorf("%s: %d values for %d×%d", s.Name(), len(dst), s.Columns, s.Rows)
	}
	pixels, err := s.frameBytes(s.Frame)
	if err != nil {
		return err
	}
	mask := uint64(1)<<stored - 1
	sign := uint64(1) << (stored - 1)
	rescale := s.rescaler()
	for i := range n {
		var u uint64
		switch size {
		case 1:
			u = uint64(pixels[i])
		case 2:
			if s.bigEndian {
				u = uint64(pixels[2*i])<<8 | uint64(pixels[2*i+1])
			} else {
				u = uint64(pixels[2*i]) | uint64(pixels[2*i+1])<<8
			}
		default:
			b := pixels[4*i : 4*i+4]
			if s.bigEndian {
				u = uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
			} else {
				u = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
			}
		}
		u &= mask
		v := int64(u)
		if s.PixelRepresentation == 1 && u&sign != 0 {
			v -= int64(mask) + 1
		}
		hu, err := rescale(i, v)
		if err != nil {
			return err
		}
		dst[i] = hu
	}
	return nil
}

// rescaler returns the function that turns stored value v of pixel i into
// HU: times RescaleSlope plus RescaleIntercept, rounded, checked to fit
// int16.
func (s *Slice) rescaler() func(i int, v int64) (int16, error) {
	slope, inter := s.Slope, s.Intercept
	if slope == 0 {
		slope = 1
	}
	integral := slope == math.Trunc(slope) && inter == math.Trunc(inter)
	return func(i int, v int64) (int16, error) {
		var hu float64
		if integral {
			hu = float64(v*int64(slope) + int64(inter))
		} else {
			hu = math.RoundToEven(float64(v)*slope + inter)
		}
		if hu < math.MinInt16 || hu > math.MaxInt16 {
			return 0, source.Formatf(s.Path, "pixel %d: %v HU does not fit int16 (stored %d, slope %g, intercept %g)", i, hu, v, slope, inter)
		}
		return int16(hu), nil
	}
}
