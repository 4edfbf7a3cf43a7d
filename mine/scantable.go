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
	if lungKernel == nil {
		lungKernel = LungKernels
	}
	thickness := func(s store.ScanInfo) float64 {
		if t := s.Source.SliceThickness; t > 0 {
			return t
		}
		return s.Source.Geometry.Spacing[2]
	}
	better := func(a, b store.ScanInfo) bool {
		la, lb := lungKernel.MatchString(a.Source.Kernel), lungKernel.MatchString(b.Source.Kernel)
		if la != lb {
			return la
		}
		if ta, tb := thickness(a), thickness(b); ta != tb {
			return ta < tb
		}
		return a.UID < b.UID
	}
	best := map[string]store.ScanInfo{}
	for _, s := range scans {
		key := s.Source.StudyUID
		if key == "" {
			key = "series:" + s.UID
		}
		if cur, ok := best[key]; !ok || better(s, cur) {
			best[key] = s
		}
	}
	for _, s := range best {
		picked = append(picked, s.UID)
	}
	sort.Strings(picked)
	return picked, len(scans) - len(picked)
}
