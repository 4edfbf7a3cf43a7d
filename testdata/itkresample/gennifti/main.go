// Command gennifti writes the NIfTI fixtures of the ITK golden tests: one
// small volume per way a NIfTI header can place it (qform, sform, both
// disagreeing, codes 1–4, a negative pixdim, qfac −1, LAS, neither, a
// sheared or rescaled sform, NIfTI-2). make_golden.sh runs it, then ITK.
package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"voxmine/ingest/nifti"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-big" {
		// One full-size .nii.gz for benchmarks: 512×512×300 int16, 0.7 mm, 1 mm slices.
		h := &nifti.Header{Version: 1, Dim: [3]int{512, 512, 300}, Datatype: 4, Pixdim: [4]float64{1, 0.7, 0.7, 1}, QformCode: 1, SformCode: 1,
			Srow: [3][4]float64{{-0.7, 0, 0, 180}, {0, -0.7, 0, 180}, {0, 0, 1, -300}}}
		d := make([]int16, h.Voxels())
		for i := range d {
			x, y, z := i%512, i/512%512, i/(512*512)
			d[i] = int16(900*math.Sin(float64(x)/9+float64(z)/7)*math.Cos(float64(y)/11)) + int16(i*7919%40)
		}
		if err := nifti.WriteFile(os.Args[2], h, d); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		return
	}
	dir := os.Args[1]
	os.MkdirAll(dir, 0o755)
	base := func() *nifti.Header {
		return &nifti.Header{Version: 1, Dim: [3]int{7, 6, 5}, Datatype: 4, Pixdim: [4]float64{1, 0.8, 0.9, 2.5}}
	}
	data := make([]int16, 7*6*5)
	for i := range data {
		data[i] = int16(i*37%900 - 450)
	}
	cases := map[string]func(h *nifti.Header){
		"qform_only": func(h *nifti.Header) {
			h.QformCode = 1
			h.Quatern = [3]float64{0, 0, 1}
			h.Qoffset = [3]float64{10.5, -20.25, 30}
		},
		"sform_only": func(h *nifti.Header) {
			h.SformCode = 2
			h.Srow = [3][4]float64{{-0.8, 0, 0, 11}, {0, 0.9, 0, -21}, {0, 0, 2.5, 31}}
		},
		"both_disagree": func(h *nifti.Header) {
			h.QformCode, h.SformCode = 1, 1
			h.Quatern = [3]float64{0, 0, 0}
			h.Qoffset = [3]float64{1, 2, 3}
			h.Srow = [3][4]float64{{0.8, 0, 0, 40}, {0, -0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"both_sform_code4": func(h *nifti.Header) {
			h.QformCode, h.SformCode = 1, 4
			h.Qoffset = [3]float64{1, 2, 3}
			h.Srow = [3][4]float64{{0.8, 0, 0, 40}, {0, -0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"sform_sheared": func(h *nifti.Header) {
			h.QformCode, h.SformCode = 1, 2
			h.Qoffset = [3]float64{1, 2, 3}
			h.Srow = [3][4]float64{{0.8, 0.3, 0, 40}, {0, 0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"sform_scale_differs": func(h *nifti.Header) {
			h.SformCode = 2
			h.Srow = [3][4]float64{{1.6, 0, 0, 11}, {0, 0.9, 0, -21}, {0, 0, 2.5, 31}}
		},
		"negative_pixdim": func(h *nifti.Header) {
			h.Pixdim[1] = -0.8
			h.QformCode = 1
			h.Qoffset = [3]float64{5, 6, 7}
		},
		"qfac_minus": func(h *nifti.Header) { h.Pixdim[0] = -1; h.QformCode = 1; h.Qoffset = [3]float64{5, 6, 7} },
		"las": func(h *nifti.Header) {
			h.QformCode, h.SformCode = 1, 1
			h.Quatern = [3]float64{0, 1, 0} // 180° about y: x and z flip
			h.Pixdim[0] = -1
			h.Qoffset = [3]float64{20, -30, 40}
			h.Srow = [3][4]float64{{-0.8, 0, 0, 20}, {0, 0.9, 0, -30}, {0, 0, 2.5, 40}}
		},
		"neither": func(h *nifti.Header) {},
		"sform_code4_only": func(h *nifti.Header) {
			h.SformCode = 4
			h.Srow = [3][4]float64{{0.8, 0, 0, 40}, {0, -0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"sform_code3_with_qform": func(h *nifti.Header) {
			h.QformCode, h.SformCode = 2, 3
			h.Qoffset = [3]float64{1, 2, 3}
			h.Srow = [3][4]float64{{0.8, 0, 0, 40}, {0, -0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"sform_negative_pixdim": func(h *nifti.Header) {
			h.Pixdim[2] = -0.9
			h.SformCode = 1
			h.Srow = [3][4]float64{{0.8, 0, 0, 40}, {0, -0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"sheared_no_qform": func(h *nifti.Header) {
			h.SformCode = 2
			h.Srow = [3][4]float64{{0.8, 0.3, 0, 40}, {0, 0.9, 0, 50}, {0, 0, 2.5, 60}}
		},
		"rotated_sform": func(h *nifti.Header) {
			h.SformCode = 1
			h.Srow = [3][4]float64{{0, -0.9, 0, 40}, {0.8, 0, 0, 50}, {0, 0, 2.5, 60}}
		},
		"nifti2": func(h *nifti.Header) {
			h.Version = 2
			h.SformCode = 1
			h.Srow = [3][4]float64{{-0.8, 0, 0, 11.123456789}, {0, -0.9, 0, -21.5}, {0, 0, 2.5, 31.25}}
		},
		"scaled": func(h *nifti.Header) { h.QformCode = 1; h.Slope, h.Inter = 2, -1024 },
	}
	for name, f := range cases {
		h := base()
		f(h)
		if err := nifti.WriteFile(filepath.Join(dir, name+".nii.gz"), h, data); err != nil {
			fmt.Println(name, err)
		}
	}
}
