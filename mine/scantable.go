package mine

import (
	"encoding/csv"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"voxmine/store"
)

// ScanTableColumns are the columns of the scan table, one row a scan.
var ScanTableColumns = []string{"seriesuid", "patient_id", "study_uid", "study_date", "series_description", "kernel",
	"slice_thickness_mm", "spacing_x_mm", "spacing_y_mm", "spacing_z_mm", "source_slices", "grid_z", "grid_y", "grid_x",
	"lung_litres", "label_source", "annotations", "excluded", "flags", "subset", "format", "source"}

// WriteScanTable writes a CSV row for every scan of the store (in uid
// order, one record at a time): who and what each scan is, its grids, its
// lungs and findings, so that pandas, DuckDB or a spreadsheet can choose
// scans without voxmine. f gives the findings counts (Store.Findings).
func WriteScanTable(w io.Writer, st *store.Store, f *store.Findings) error {
	c := csv.NewWriter(w)
	c.Write(ScanTableColumns)
	err := st.Each(func(s store.ScanInfo) error {
		nodules, excluded, patient := 0, 0, s.Source.PatientID
		if sf := f.Of(s.UID); sf != nil {
			nodules, excluded = len(sf.Annotations), len(sf.Excluded)
			if patient == "" {
				patient = sf.PatientID
			}
		}
		g, src := s.Grid, s.Source.Geometry
		num := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
		thick := ""
		if s.Source.SliceThickness > 0 {
			thick = num(s.Source.SliceThickness)
		}
		return c.Write([]string{s.UID, patient, s.Source.StudyUID, s.Source.StudyDate, s.Source.Description, s.Source.Kernel,
			thick, num(src.Spacing[0]), num(src.Spacing[1]), num(src.Spacing[2]), strconv.Itoa(src.Shape[0]),
			strconv.Itoa(g.Shape[0]), strconv.Itoa(g.Shape[1]), strconv.Itoa(g.Shape[2]),
			strconv.FormatFloat(float64(s.LungVoxels)/1e6, 'f', 3, 64), string(s.LabelSource),
			strconv.Itoa(nodules), strconv.Itoa(excluded), strings.Join(s.Flags, "; "), SubsetOf(s.Source.Path), s.Source.Format, s.Source.Path})
	})
	c.Flush()
	if err != nil {
		return err
	}
	return c.Error()
}

// LungKernels matches the names of the reconstruction kernels made for
// lung parenchyma (sharp, high-frequency), as the main vendors write them:
// GE LUNG, BONE, BONEPLUS, DETAIL, EDGE; Siemens B50f–B80f, Br5x–Br8x,
// I50f–I80f; Philips L, D, YA–YD; Canon/Toshiba FC5x and FC8x; and any
// name with SHARP or LUNG in it. Matched without regard to case.
var LungKernels = regexp.MustCompile(`(?i)^(LUNG|BONE|BONEPLUS|DETAIL|EDGE|L|D|Y[A-D]|[BI]r?[5-8][0-9].*|FC(5[0-9]|8[0-9]).*|.*SHARP.*|.*LUNG.*)$`)

// OnePerStudy picks one series of each study, as NLST and clinical studies
// hold several reconstructions of one acquisition (thin and thick, soft
// and lung kernels) that a training set must not count as several
// patients' scans. Within a study it prefers a kernel that lungKernel
// matches (LungKernels when nil), then the thinnest slices (the
// thickness DICOM gives, else the spacing of the slices), then the lowest
// uid; a series with no study uid is a study of its own. It returns the
// uids picked, sorted, and how many series it left out.
func OnePerStudy(scans []store.ScanInfo, lungKernel *regexp.Regexp) (picked []string, left int) {
	p := NewStudyPicker(lungKernel)
	for _, s := range scans {
		p.Add(s)
	}
	return p.Picked()
}

// A StudyPicker is OnePerStudy fed one record at a time (Store.Each), so
// that a store of 200,000 series holds one small entry per study.
type StudyPicker struct {
	lungKernel *regexp.Regexp
	best       map[string]studyPick
	seen       int
}

type studyPick struct {
	uid       string
	lung      bool
	thickness float64
}

// NewStudyPicker returns a picker that prefers the kernels lungKernel
// matches (LungKernels when nil).
func NewStudyPicker(lungKernel *regexp.Regexp) *StudyPicker {
	if lungKernel == nil {
		lungKernel = LungKernels
	}
	return &StudyPicker{lungKernel: lungKernel, best: map[string]studyPick{}}
}

// Add considers one series.
func (p *StudyPicker) Add(s store.ScanInfo) {
	p.seen++
	c := studyPick{uid: s.UID, lung: p.lungKernel.MatchString(s.Source.Kernel), thickness: s.Source.SliceThickness}
	if c.thickness <= 0 {
		c.thickness = s.Source.Geometry.Spacing[2]
	}
	key := s.Source.StudyUID
	if key == "" {
		key = "series:" + s.UID
	}
	if cur, ok := p.best[key]; !ok || c.better(cur) {
		p.best[key] = c
	}
}

func (c studyPick) better(d studyPick) bool {
	if c.lung != d.lung {
		return c.lung
	}
	if c.thickness != d.thickness {
		return c.thickness < d.thickness
	}
	return c.uid < d.uid
}

// Picked returns the uids picked, sorted, and how many series were left
// out.
func (p *StudyPicker) Picked() (picked []string, left int) {
	for _, c := range p.best {
		picked = append(picked, c.uid)
	}
	sort.Strings(picked)
	return picked, p.seen - len(picked)
}
